"""The experiment schedule (passes -> iterations, as --cfg-options): the
lr of every iteration, stepped by mmengine's schedulers from the merged
config, against the rule written out by hand."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

from mmskelcl.utils.experiment.runs import config_hash, options_dict
from mmskelcl.utils.experiment.schedule import Schedule, schedule_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NWUCLA = osp.join(ROOT, 'configs', 'nwucla')


def merged(config: str, options):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options_dict(options))
    return cfg


def lrs_by_iteration(cfg: Config, iters: int):
    """Lr of each iteration (schedulers stepped after every iteration, as
    ParamSchedulerHook does for by_epoch=False)."""
    optim = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    scheds = [PARAM_SCHEDULERS.build(dict(s), default_args=dict(
        optimizer=optim)) for s in cfg.param_scheduler]
    assert all(not s.by_epoch for s in scheds)
    out = []
    for _ in range(iters):
        out.append(optim.optimizer.param_groups[0]['lr'])
        for s in scheds:
            s.step()
    return out


@pytest.mark.filterwarnings('ignore:Detected call of')
def test_nwucla_issue_schedule_by_hand():
    # 30 passes over 1,020 clips, batch 16, repeat 5, warm-up 3 passes,
    # x0.1 after pass 24: 5,100 / 16 = 318 iterations per epoch (drop_last)
    cfg = Config.fromfile(osp.join(NWUCLA, 'csre_ctrgcn_j.py'))
    sched = Schedule(passes=30, repeat=5, batch_size=16, warmup_passes=3,
                     lr_steps=[24])
    opts, res = schedule_options(cfg, sched, n_train=1020)
    assert res['epochs'] == 6 and res['iters_per_epoch'] == 318
    assert res['total_iters'] == 1908
    assert res['warmup_iters'] == 191  # round(3 * 318 / 5 = 190.8)
    assert res['milestones'] == [1526]  # round(24 * 318 / 5 = 1526.4)
    cfg = merged(osp.join(NWUCLA, 'csre_ctrgcn_j.py'), opts)
    assert cfg.train_cfg.max_epochs == 6
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_dataloader.dataset.times == 5
    assert cfg.train_dataloader.dataset.type == 'IndexedRepeatDataset'
    lrs = lrs_by_iteration(cfg, 1908)
    want = [0.1 * (i + 1) / 191 if i < 191 else 0.1 if i < 1526 else 0.01
            for i in range(1908)]
    assert lrs == pytest.approx(want, rel=1e-6)


def test_passes_must_fill_whole_epochs_and_steps_need_a_scheduler():
    cfg = Config.fromfile(osp.join(NWUCLA, 'ctrgcn_j.py'))
    with pytest.raises(ValueError, match='multiple of the dataset repeat 5'):
        schedule_options(cfg, Schedule(passes=12), n_train=1020)
    hcn = Config.fromfile(osp.join(NWUCLA, 'hcn_j.py'))  # ExponentialLR
    with pytest.raises(ValueError, match='no MultiStepLR'):
        schedule_options(hcn, Schedule(lr_steps=[3]), n_train=1020)
    with pytest.raises(ValueError, match='no LinearLR'):
        schedule_options(hcn, Schedule(warmup_passes=1), n_train=1020)
    # repeat 1 of a repeated set: 1,020 / 16 = 63 iterations per epoch
    opts, res = schedule_options(cfg, Schedule(passes=2, repeat=1),
                                 n_train=1020)
    assert (res['epochs'], res['iters_per_epoch']) == (2, 63)
    assert 'train_dataloader.dataset.times=1' in opts


def test_config_hash_follows_the_resolved_config():
    path = osp.join(NWUCLA, 'ctrgcn_j.py')
    a = config_hash(path, ['train_cfg.max_epochs=6'])
    assert a == config_hash(path, ['train_cfg.max_epochs=6'])
    assert a != config_hash(path, ['train_cfg.max_epochs=7'])
    assert a != config_hash(osp.join(NWUCLA, 'csre_ctrgcn_j.py'),
                            ['train_cfg.max_epochs=6'])
