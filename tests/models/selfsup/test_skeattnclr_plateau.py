"""The paper's finetune schedule (lr 0.05, reduce on plateau of the
training loss): TrainLossMetricHook by hand, mmengine's ReduceOnPlateauLR
driven through ParamSchedulerHook, the shipped configs, and a tiny
training run whose learning rates are recomputed from its logged losses."""
import glob
import os.path as osp
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook, ParamSchedulerHook
from mmengine.logging import MessageHub
from mmengine.optim import ReduceOnPlateauLR
from mmengine.runner import Runner

from mmskelcl.engine import TrainLossMetricHook

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
BENCHMARKS = ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset',
              'pkummd1', 'pkummd2')


def _runner(name):
    hub = MessageHub.get_instance(name)
    return SimpleNamespace(iter=0, message_hub=hub, param_schedulers=None)


def test_hook_adds_the_mean_loss_since_the_last_validation():
    runner = _runner('plateau_hook_by_hand')
    hook = TrainLossMetricHook()
    hook.before_train(runner)
    for i, loss in enumerate([4.0, 2.0, 3.0], 1):  # epoch 1
        runner.message_hub.update_scalar('train/loss', loss)
        runner.iter = i
    metrics = {'acc/top1': 0.5}
    hook.after_val_epoch(runner, metrics)
    assert metrics == {'acc/top1': 0.5, 'train_loss': pytest.approx(3.0)}
    for loss in [1.0, 0.0]:  # epoch 2: only its own iterations count
        runner.message_hub.update_scalar('train/loss', loss)
        runner.iter += 1
    metrics = {}
    hook.after_val_epoch(runner, metrics)
    assert metrics['train_loss'] == pytest.approx(0.5)
    # a second validation without training repeats the last value
    again = {}
    hook.after_val_epoch(runner, again)
    assert again['train_loss'] == pytest.approx(0.5)
    # validation outside training (no before_train) is left alone
    other = TrainLossMetricHook()
    untouched = {'acc/top1': 1.0}
    other.after_val_epoch(runner, untouched)
    assert untouched == {'acc/top1': 1.0}


def test_reduce_on_plateau_follows_the_training_loss():
    """patience 1: the lr drops after the second epoch without a 1e-4
    relative decrease, and again two bad epochs later."""
    runner = _runner('plateau_with_scheduler')
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.05)
    runner.param_schedulers = [ReduceOnPlateauLR(
        optimizer, monitor='train_loss', rule='less', factor=0.1,
        patience=1)]
    hooks = [TrainLossMetricHook(), ParamSchedulerHook()]
    assert hooks[0].priority == 'NORMAL'  # runs before ParamSchedulerHook
    hooks[0].before_train(runner)
    lrs = []
    for epoch_loss in [2.0, 1.0, 1.0, 0.99995, 0.5, 0.5, 0.5, 0.5]:
        for _ in range(3):
            runner.message_hub.update_scalar('train/loss', epoch_loss)
            runner.iter += 1
        metrics = {}
        for hook in hooks:
            hook.after_val_epoch(runner, metrics)
        lrs.append(optimizer.param_groups[0]['lr'])
    # epochs 3, 4 do not improve (4: less than 1e-4 relative) -> drop at
    # 4; 5 improves; 6, 7 do not -> drop at 7
    expect = [0.05, 0.05, 0.05, 0.005, 0.005, 0.005, 0.0005, 0.0005]
    assert lrs == pytest.approx(expect)


@pytest.mark.parametrize('ds', BENCHMARKS)
@pytest.mark.parametrize('stream', ['j', 'b', 'm'])
def test_paper_finetune_configs(ds, stream):
    def load(protocol):
        return Config.fromfile(osp.join(
            REPO, 'configs', ds, f'skeattnclr_stgcn_{stream}_{protocol}.py'))

    paper, released = load('finetune_paper'), load('finetune')
    assert paper.optim_wrapper.optimizer.lr == 0.05
    assert paper.param_scheduler == [dict(
        type='ReduceOnPlateauLR', monitor='train_loss', rule='less',
        factor=0.1, patience=10, threshold=1e-4, threshold_rule='rel',
        by_epoch=True)]
    assert paper.custom_hooks == [dict(type='TrainLossMetricHook',
                                       key='loss', name='train_loss')]
    assert paper.train_cfg.val_interval == 1
    assert paper.train_cfg.max_epochs == released.train_cfg.max_epochs
    # everything else is the released finetune config
    for key in ('model', 'train_dataloader', 'val_dataloader',
                'test_dataloader'):
        assert paper[key] == released[key], key
    opt = dict(paper.optim_wrapper.optimizer, lr=None)
    assert opt == dict(released.optim_wrapper.optimizer, lr=None)


def test_every_finetune_has_its_paper_variant():
    finetunes = [f for ds in BENCHMARKS for f in glob.glob(osp.join(
        REPO, 'configs', ds, 'skeattnclr_stgcn_?_finetune.py'))]
    assert len(finetunes) == len(BENCHMARKS) * 3
    for f in finetunes:
        assert osp.isfile(f.replace('_finetune.py', '_finetune_paper.py'))


def _write(path, n=8, T=64):
    rng = np.random.default_rng(0)
    annos = [dict(frame_dir=f's{i}', label=i % 2, total_frames=T,
                  keypoint=rng.normal(size=(1, T, 25, 3)).astype(np.float32))
             for i in range(n)]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(xsub_train=[f's{i}' for i in range(6)],
                                    xsub_val=['s6', 's7']),
                         annotations=annos), f)


def test_tiny_paper_finetune_run_steps_the_plateau_on_epoch_losses(tmp_path):
    """Four epochs, patience 0: the lr after each epoch is the plateau rule
    applied by hand to the per-epoch means of the logged training loss.
    mmengine ends the scheduler at ``max_epochs`` (its step counter passes
    the end before the last validation), so the last epoch changes nothing,
    as no training follows it."""
    ann = str(tmp_path / 'tiny.pkl')
    _write(ann)
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'pkummd1', 'skeattnclr_stgcn_j_finetune_paper.py'))
    cfg.model.backbone.update(base_channels=8, num_stages=4,
                              inflate_stages=[3], down_stages=[2, 3],
                              init_cfg=None)
    cfg.model.cls_head.in_channels = 16
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(batch_size=3, num_workers=0,
                        persistent_workers=False)
        cfg[key].dataset.ann_file = ann
    cfg.param_scheduler[0].patience = 0
    cfg.train_cfg.max_epochs = 4
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    lrs = []

    class Record(Hook):  # after the scheduler hook (priority LOW)
        priority = 'VERY_LOW'

        def after_val_epoch(self, runner, metrics=None):
            lrs.append(runner.optim_wrapper.param_groups[0]['lr'])

    runner.register_hook(Record())
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 4 * 2  # 6 clips, batch 3
    means = losses.reshape(4, 2).mean(1)
    lr, best, expect = 0.05, float('inf'), []
    for m in means[:3]:  # patience 0, relative threshold 1e-4
        if m < best * (1 - 1e-4):
            best = m
        else:
            lr *= 0.1
        expect.append(lr)
    assert lrs == pytest.approx(expect + [expect[-1]])
    assert runner.param_schedulers[0].best == pytest.approx(means[:3].min())
