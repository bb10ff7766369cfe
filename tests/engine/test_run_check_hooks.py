"""ClassCountHook's empty-epoch stop: a training set smaller than one batch
with ``drop_last=True`` yields no iteration, and the run must say so
instead of "training" every epoch on nothing."""
import os.path as osp
import sys

import pytest
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle  # noqa

MODEL = dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
             cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))


def _cfg(tmp_path, batch_size: int, drop_last: bool):
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)  # 9 training clips
    cfg = tiny_runner_cfg(ann, str(tmp_path / f'w{batch_size}{drop_last}'),
                          MODEL, max_epochs=1,
                          custom_hooks=[dict(type='ClassCountHook')])
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_dataloader.drop_last = drop_last
    return cfg


def test_training_set_smaller_than_a_batch_stops_with_the_fix(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path, 10, True))
    with pytest.raises(ValueError) as err:
        runner.train()
    msg = str(err.value)
    assert msg.startswith(f'{tmp_path}/tiny.pkl: the training set gives 9 '
                          'clips per process, fewer than '
                          'train_dataloader.batch_size=10 with drop_last')
    assert 'set train_dataloader.drop_last=False' in msg
    assert not osp.exists(osp.join(runner.work_dir, 'epoch_1.pth'))


@pytest.mark.parametrize('batch_size,drop_last', [(10, False), (9, True)])
def test_a_batch_that_fits_trains(tmp_path, batch_size, drop_last):
    runner = Runner.from_cfg(_cfg(tmp_path, batch_size, drop_last))
    runner.train()
    assert runner.iter == 1  # one batch of 9 clips
