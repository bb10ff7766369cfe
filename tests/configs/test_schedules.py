"""Learning rate per epoch of every shipped config, as mmengine steps it.

The expected values come from the released recipe, not from the configs:
CTR-GCN's ``adjust_learning_rate`` (the rule FR-Head, SkeletonGCL and CACL
copy) sets, at the start of 0-based epoch ``e``,
``lr = base * (e + 1) / W`` while ``e < W`` and
``base * 0.1 ** #{s in steps : e >= s}`` afterwards. The optimizer and the
schedulers are built from each config with mmengine's registries and
stepped once per epoch, as ``ParamSchedulerHook`` does after every train
epoch, so an off-by-one in ``LinearLR.end`` or a milestone shows up here.
"""
import glob
import os.path as osp
from typing import Dict, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
    if not osp.basename(p).startswith('_')
    and osp.basename(osp.dirname(p)) != '_base_')

# (base lr, warm-up epochs, steps) of the released recipe per folder:
# CTR-GCN config/nturgbd*/default.yaml (NTU), config/ucla/default.yaml,
# the CACL paper's FineGym schedule; the demo is this project's CPU
# schedule (3 warm-up epochs by the same rule, steps at 8 and 11).
RECIPES: Dict[str, Tuple[float, int, List[int]]] = {
    'ntu60_xsub': (0.1, 5, [35, 55]),
    'ntu60_xview': (0.1, 5, [35, 55]),
    'ntu120_xsub': (0.1, 5, [35, 55]),
    'ntu120_xset': (0.1, 5, [35, 55]),
    'nwucla': (0.1, 5, [50]),
    'finegym': (0.1, 5, [75, 115]),
    'demo': (0.1, 3, [8, 11]),
}


# Encoders whose release has its own recipe: config-name prefix -> folder
# -> (base lr, warm-up epochs, steps). BlockGCN: config/nturgbd*/*.yaml
# (no UCLA config released; its UCLA run name gives the same schedule).
ENCODER_RECIPES: Dict[str, Dict[str, Tuple[float, int, List[int]]]] = {
    'blockgcn': {d: (0.05, 5, [110, 120]) for d in (
        'ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset',
        'nwucla')},
    # Hyperformer config/*/*.yaml; X-View decays x0.025 (lr_decay_rate)
    'hyperformer': dict(
        {d: (0.025, 5, [110, 120]) for d in (
            'ntu60_xsub', 'ntu120_xsub', 'ntu120_xset', 'nwucla')},
        ntu60_xview=(0.01, 5, [110, 120], 0.025)),
}


def recipe_of(path: str) -> Tuple[float, int, List[int]]:
    folder = osp.basename(osp.dirname(path))
    for prefix, table in ENCODER_RECIPES.items():
        if osp.basename(path).startswith(prefix + '_'):
            return table[folder]
    return RECIPES[folder]


def released_lr(epoch: int, base: float, warmup: int,
                steps: List[int], gamma: float = 0.1) -> float:
    """CTR-GCN main.py ``adjust_learning_rate`` for 0-based ``epoch``."""
    if epoch < warmup:
        return base * (epoch + 1) / warmup
    return base * gamma**sum(epoch >= s for s in steps)


def test_released_rule_by_hand():
    # the reference itself, against numbers written out by hand
    got = [released_lr(e, 0.1, 5, [35, 55]) for e in (0, 1, 2, 3, 4, 5, 34,
                                                      35, 54, 55, 64)]
    want = [0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    assert got == pytest.approx(want)


def scheduled_lrs(cfg: Config, epochs: int) -> List[float]:
    """Lr of each epoch from the config's optimizer and param_scheduler."""
    model = torch.nn.Linear(2, 2)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = [
        PARAM_SCHEDULERS.build(
            dict(s), default_args=dict(optimizer=optim_wrapper))
        for s in cfg.param_scheduler
    ]
    lrs = []
    for _ in range(epochs):
        lrs.append(optim_wrapper.optimizer.param_groups[0]['lr'])
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def test_every_folder_has_a_recipe():
    folders = {osp.basename(osp.dirname(p)) for p in CONFIGS}
    assert folders == set(RECIPES)
    assert len(CONFIGS) > 100


@pytest.mark.filterwarnings('ignore:Detected call of')
@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_lr_per_epoch_matches_released_recipe(path: str):
    cfg = Config.fromfile(path)
    base, warmup, steps, *gamma = recipe_of(path)
    epochs = cfg.train_cfg.max_epochs
    assert epochs > max(steps)
    got = scheduled_lrs(cfg, epochs)
    want = [released_lr(e, base, warmup, steps, *gamma)
            for e in range(epochs)]
    assert got == pytest.approx(want, rel=1e-6), [
        (e, g, w) for e, (g, w) in enumerate(zip(got, want))
        if abs(g - w) > 1e-9
    ][:6]
