"""A full mmengine Runner cycle on tiny data: train, save, resume, test.

The checkpoints are written by the Runner itself, so this also proves that
mmengine 0.10.7 on torch >= 2.6 loads them through the allowlist (the load
keeps ``weights_only=True``).
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

from mmskelcl.compat.checkpoint import load_checkpoint_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _cfg(ann_file, work_dir, max_epochs=2, stream='j'):
    model = dict(type='AuxRecognizerGCN', backbone=TINY_BACKBONE,
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    return tiny_runner_cfg(ann_file, work_dir, model, max_epochs=max_epochs,
                           stream=stream)


@pytest.fixture()
def ann_file(tmp_path):
    path = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(path)
    return path


def test_train_save_resume_test(ann_file, tmp_path):
    work = str(tmp_path / 'work')
    runner = Runner.from_cfg(_cfg(ann_file, work, max_epochs=2))
    runner.train()
    ckpt1 = osp.join(work, 'epoch_1.pth')
    ckpt2 = osp.join(work, 'epoch_2.pth')
    assert osp.exists(ckpt1) and osp.exists(ckpt2)

    # the checkpoint holds the HistoryBuffer/numpy objects that break
    # mmengine 0.10.7 on torch >= 2.6; the scoped weights_only load of
    # mmskelcl.compat must accept it
    ck = load_checkpoint_file(ckpt2, map_location='cpu')
    assert ck['meta']['epoch'] == 2 and 'message_hub' in ck

    # resume from epoch 1: weights, optimizer state and counters restored
    cfg = _cfg(ann_file, str(tmp_path / 'work_resume'), max_epochs=2)
    cfg.resume, cfg.load_from = True, ckpt1
    resumed = Runner.from_cfg(cfg)
    resumed._train_loop = resumed.build_train_loop(resumed._train_loop)
    resumed.optim_wrapper = resumed.build_optim_wrapper(
        resumed.optim_wrapper)
    resumed.load_or_resume()
    saved = load_checkpoint_file(ckpt1, map_location='cpu')
    assert resumed.epoch == 1
    for k, v in resumed.model.state_dict().items():
        torch.testing.assert_close(v, saved['state_dict'][k], msg=k)
    momentum = resumed.optim_wrapper.optimizer.state_dict()['state']
    for pid, st in saved['optimizer']['state'].items():
        torch.testing.assert_close(momentum[pid]['momentum_buffer'],
                                   st['momentum_buffer'])

    # test through the Runner with load_from
    cfg = _cfg(ann_file, str(tmp_path / 'work_test'))
    cfg.load_from = ckpt2
    metrics = Runner.from_cfg(cfg).test()
    assert 0.0 <= metrics['acc/top1'] <= 1.0


def _tool(tmp_path, *args):
    res = subprocess.run([sys.executable, *args], capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_train_resume_and_test_tools(ann_file, tmp_path):
    """tools/train.py, tools/train.py --resume, tools/test.py CKPT."""
    work = str(tmp_path / 'work')
    cfg_file = str(tmp_path / 'tiny_j.py')
    _cfg(ann_file, work, max_epochs=1).dump(cfg_file)
    train = osp.join(REPO, 'tools', 'train.py')
    _tool(tmp_path, train, cfg_file)
    assert osp.exists(osp.join(work, 'epoch_1.pth'))
    res = _tool(tmp_path, train, cfg_file, '--resume', '--cfg-options',
                'train_cfg.max_epochs=2', 'log_level=INFO')
    assert 'resumed epoch: 1' in res.stdout + res.stderr
    assert osp.exists(osp.join(work, 'epoch_2.pth'))
    res = _tool(tmp_path, osp.join(REPO, 'tools', 'test.py'), cfg_file,
                osp.join(work, 'epoch_2.pth'), '--work-dir',
                str(tmp_path / 'test_out'))
    assert 'tiny_j' in res.stdout and 'top1' in res.stdout
