"""Learning rate per epoch of every shipped config, as mmengine steps it.

The expected values come from the released recipe, not from the configs:
CTR-GCN's ``adjust_learning_rate`` (the rule FR-Head, SkeletonGCL and CACL
copy) sets, at the start of 0-based epoch ``e``,
``lr = base * (e + 1) / W`` while ``e < W`` and
``base * gamma ** #{s in steps : e >= s}`` afterwards (2s-AGCN, BlockGCN,
Hyperformer and InfoGCN use the same rule; HCN decays by 0.99 per epoch,
stepping its scheduler once before the first epoch as well). The
optimizer and the
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
    and osp.basename(osp.dirname(p)) != '_base_'
    # self-supervised protocols: tests/models/selfsup (their own recipes)
    and not osp.basename(p).startswith('skeattnclr_'))

NTU = ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset')
STREAMS = ('j', 'b', 'jm', 'bm')
# heads and variants that keep their backbone's recipe
METHOD_PREFIXES = ('cacl_', 'skeletongcl_', 'frhead_', 'csre_')


def _step(base: float, warmup: int, steps: List[int],
          gamma: float = 0.1) -> Tuple:
    return ('step', base, warmup, tuple(steps), gamma)


# The released recipe of each backbone per benchmark folder:
# CTR-GCN config/*/default.yaml (NTU, NW-UCLA; FR-Head, SkeletonGCL, CACL
# and this project's ST-GCN++ comparison keep it), CACL's FineGym schedule;
# 2s-AGCN config/nturgbd-*/train_joint.yaml (no warm-up; its NW-UCLA run
# follows CTR-GCN, as CSRE trains it); BlockGCN and Hyperformer
# config/*.yaml (Hyperformer X-View: lr 0.01, lr_decay_rate 0.025); HCN
# params.json (Adam 1e-3, x0.99 per epoch); InfoGCN's README command and
# args.py (no UCLA values released: the same schedule is used there). The
# demo is this project's CPU
# schedule (3 warm-up epochs by the same rule, steps at 8 and 11).
CTRGCN_RECIPE = {
    **{d: _step(0.1, 5, [35, 55]) for d in NTU},
    'nwucla': _step(0.1, 5, [50]),
    'finegym': _step(0.1, 5, [75, 115]),
    'demo': _step(0.1, 3, [8, 11]),
}
RECIPES: Dict[str, Dict[str, Tuple]] = {
    'ctrgcn': CTRGCN_RECIPE,
    'stgcnpp': CTRGCN_RECIPE,
    'agcn': {**{d: _step(0.1, 0, [30, 40]) for d in NTU},
             'nwucla': _step(0.1, 5, [50])},
    'blockgcn': {d: _step(0.05, 5, [110, 120]) for d in NTU + ('nwucla', )},
    'hyperformer': {
        **{d: _step(0.025, 5, [110, 120]) for d in NTU},
        'ntu60_xview': _step(0.01, 5, [110, 120], gamma=0.025),
        'nwucla': _step(0.025, 5, [110, 120]),
    },
    'hcn': {**{d: ('exp', 1e-3, 0.99) for d in NTU},
            # 80 epochs of 5 passes: x0.99 per pass, stepped per epoch
            'nwucla': ('exp', 1e-3, 0.99**5)},
    'infogcn': {d: _step(0.1, 5, [90, 100]) for d in NTU + ('nwucla', )},
}


def backbone_of(path: str) -> str:
    """``configs/<folder>/<method>_<backbone>_<stream>.py`` -> backbone."""
    name = osp.splitext(osp.basename(path))[0]
    name, stream = name.rsplit('_', 1)
    assert stream in STREAMS, path
    for prefix in METHOD_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


def recipe_of(path: str) -> Tuple:
    return RECIPES[backbone_of(path)][osp.basename(osp.dirname(path))]


# HCN-pytorch main.py calls ExponentialLR(gamma=0.99).step() at the start
# of every epoch, the first included: 0-based epoch e trains at
# lr * 0.99^(e + 1), one 0.99 step ahead of the per-epoch decay.
HCN_FIRST_STEP = 0.99


def released_lr(epoch: int, recipe: Tuple) -> float:
    """Lr of 0-based ``epoch``: CTR-GCN's (and 2s-AGCN's, BlockGCN's,
    Hyperformer's) ``adjust_learning_rate``, or HCN's exponential decay."""
    if recipe[0] == 'exp':
        _, base, gamma = recipe
        return base * HCN_FIRST_STEP * gamma**epoch
    _, base, warmup, steps, gamma = recipe
    if epoch < warmup:
        return base * (epoch + 1) / warmup
    return base * gamma**sum(epoch >= s for s in steps)


def test_released_rule_by_hand():
    # the reference itself, against numbers written out by hand
    ctr = _step(0.1, 5, [35, 55])
    got = [released_lr(e, ctr) for e in (0, 1, 2, 3, 4, 5, 34, 35, 54, 55,
                                         64)]
    want = [0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    assert got == pytest.approx(want)
    agcn = _step(0.1, 0, [30, 40])
    assert [released_lr(e, agcn) for e in (0, 29, 30, 40)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.001])
    # HCN: 1e-3 x 0.99^3 at epoch 2 (three scheduler steps by then)
    assert released_lr(2, ('exp', 1e-3, 0.99)) == pytest.approx(9.70299e-4)
    assert released_lr(0, ('exp', 1e-3, 0.99)) == pytest.approx(9.9e-4)


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


def test_every_shipped_config_has_a_recipe():
    assert len(CONFIGS) > 100
    missing = []
    for path in CONFIGS:
        try:
            recipe_of(path)
        except KeyError:
            missing.append(osp.relpath(path, ROOT))
    assert not missing, f'add the released recipe of {missing}'
    assert backbone_of('configs/ntu60_xsub/frhead_stgcnpp_bm.py') == 'stgcnpp'
    assert backbone_of('configs/nwucla/skeletongcl_ctrgcn_j.py') == 'ctrgcn'


@pytest.mark.filterwarnings('ignore:Detected call of')
@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_lr_per_epoch_matches_released_recipe(path: str):
    cfg = Config.fromfile(path)
    recipe = recipe_of(path)
    epochs = cfg.train_cfg.max_epochs
    if recipe[0] == 'step':
        assert epochs > max(recipe[3])
    got = scheduled_lrs(cfg, epochs)
    want = [released_lr(e, recipe) for e in range(epochs)]
    assert got == pytest.approx(want, rel=1e-6), [
        (e, g, w) for e, (g, w) in enumerate(zip(got, want))
        if abs(g - w) > 1e-6 * w
    ][:6]
