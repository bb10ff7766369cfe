"""The shipped FR-Head configs (this test reads configs/ on purpose): they
parse and build, follow the released runs' recipes, and keep the baseline's
backbone and classifier so checkpoints load into the plain configs."""
import copy
import functools
import glob
import os.path as osp

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

from mmskelcl.structures.layouts import NUM_JOINTS
from mmskelcl.evaluation.fusion import WEIGHT_PRESETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STREAMS = ('j', 'b', 'jm', 'bm')
# version, epochs per stream, random bone scaling, classes, layout (NTU:
# the released graph/ntu_rgb_d.py, hand tip -> thumb -> hand)
RECIPES = {
    'ntu60_xsub': ('V0', dict(j=80, b=80, jm=80, bm=80), True, 60,
                   'nturgb+d_agcn'),
    'ntu60_xview': ('V1', dict(j=80, b=70, jm=80, bm=70), True, 60,
                    'nturgb+d_agcn'),
    'ntu120_xsub': ('V1', dict(j=80, b=80, jm=80, bm=80), True, 120,
                    'nturgb+d_agcn'),
    'ntu120_xset': ('V1', dict(j=70, b=70, jm=70, bm=70), True, 120,
                    'nturgb+d_agcn'),
    'nwucla': ('V0', dict(j=65, b=65, jm=65, bm=65), False, 10, 'nwucla'),
    'finegym': ('V1', dict(j=180, b=180, jm=180, bm=180), False, 99,
                'coco'),
}
# the stage weights lambda of Eq. 1; sizes come from the backbone's taps
STAGES = dict(
    block1=dict(weight=0.1),
    block5=dict(weight=0.2),
    block8=dict(weight=0.5),
    block10=dict(weight=1.0))
# (channels, temporal stride) of the 10-block GCNs at those taps
STAGE_SIZES = dict(block1=(64, 1), block5=(128, 2), block8=(256, 4),
                   block10=(256, 4))


@functools.lru_cache(maxsize=None)
def _load(path):
    return Config.fromfile(path)


def _cfg(dataset, name):
    return copy.deepcopy(
        _load(osp.join(REPO, 'configs', dataset, f'{name}.py')))


def _inner(ds):
    return ds.get('dataset', ds)


def _frhead_files():
    # FR-Head alone; the combinations (frhead_csre_*) have their own tests
    return sorted(f for f in glob.glob(
        osp.join(REPO, 'configs', '*', 'frhead_*.py'))
        if not osp.basename(f).startswith('frhead_csre_'))


def test_every_frhead_config_parses_and_builds():
    files = _frhead_files()
    assert len(files) == 6 * 4 + 4  # CTR-GCN everywhere + ST-GCN++ example
    built = {}
    for f in files:
        cfg = Config.fromfile(f)
        key = repr(cfg.model)  # the four streams share one model
        if key not in built:
            built[key] = MODELS.build(cfg.model)
        model = built[key]
        assert type(model).__name__ == 'AuxRecognizerGCN', f
        head = model.aux_heads['fr']
        assert type(head).__name__ == 'FRHead', f
        clip_len = cfg.model.num_frames
        joints = model.backbone.tap_info()['block1'].num_joints
        for tap, stage in head.stages.items():
            channels, stride = STAGE_SIZES[tap]
            assert (stage.in_channels, stage.num_frames, stage.num_joints) \
                == (channels, -(-clip_len // stride), joints), (f, tap)
            assert all(c.num_classes == cfg.model.cls_head.num_classes
                       for c in stage.cfr.values())
    assert len(built) == 6  # NTU120 X-Sub and X-Set share one model


@pytest.mark.parametrize('dataset', list(RECIPES))
@pytest.mark.parametrize('stream', STREAMS)
def test_released_recipe(dataset, stream):
    version, epochs, bone_scale, classes, layout = RECIPES[dataset]
    cfg = _cfg(dataset, f'frhead_ctrgcn_{stream}')
    base = _cfg(dataset, f'ctrgcn_{stream}')
    head = cfg.model.aux_heads.fr
    # same backbone and classifier as the plain config (checkpoints load)
    assert cfg.model.type == 'AuxRecognizerGCN'
    assert cfg.model.backbone == base.model.backbone
    assert cfg.model.cls_head == base.model.cls_head
    assert cfg.model.cls_head.num_classes == classes
    assert cfg.model.backbone.graph_cfg.layout == layout
    # no sizes in the head config; the recognizer gets the clip length
    assert not {'num_classes', 'num_frames', 'num_joints'} & set(head)
    clip_lens = [t.clip_len for t in _inner(cfg.train_dataloader.dataset)
                 .pipeline if 'clip_len' in t]
    assert clip_lens == [cfg.model.num_frames]
    assert head.stages == STAGES and head.loss_weight == 0.1
    assert head.cfr == dict(version=version)
    # schedule: the baseline's optimizer and steps, the released epochs
    assert cfg.optim_wrapper == base.optim_wrapper
    assert cfg.train_cfg.max_epochs == epochs[stream]
    warm, step = cfg.param_scheduler
    assert warm == base.param_scheduler[0]
    assert step.milestones == base.param_scheduler[1].milestones
    assert step.get('end', float('inf')) >= epochs[stream]
    assert cfg.train_dataloader.batch_size == base.train_dataloader.batch_size
    # data: the baseline's, plus bone-length scaling after the rotation
    pipe = list(_inner(cfg.train_dataloader.dataset).pipeline)
    base_pipe = list(_inner(base.train_dataloader.dataset).pipeline)
    if bone_scale:
        i = [t.type for t in pipe].index('RandomBoneScale')
        assert pipe[i - 1].type == 'RandomRotation'
        assert pipe.pop(i) == dict(type='RandomBoneScale', scale=0.2,
                                   layout='nturgb+d')
    assert pipe == base_pipe
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds, base_ds = _inner(cfg[loader].dataset), _inner(base[loader].dataset)
        assert ds.stream == stream
        if loader != 'train_dataloader':
            assert ds == base_ds


@pytest.mark.parametrize('dataset', list(RECIPES))
def test_stream_files_are_short(dataset):
    for stream in STREAMS:
        path = osp.join(REPO, 'configs', dataset,
                        f'frhead_ctrgcn_{stream}.py')
        lines = [ln for ln in open(path) if ln.strip()]
        assert len(lines) <= 6, path


@pytest.mark.parametrize('dataset,base_name', [
    ('ntu60_xsub', 'ctrgcn_j'), ('ntu120_xset', 'ctrgcn_j'),
    ('nwucla', 'ctrgcn_j'), ('finegym', 'ctrgcn_j'),
    ('ntu60_xsub', 'stgcnpp_j')
])
def test_checkpoints_load_into_the_plain_configs(dataset, base_name):
    method = base_name.split('_')[0]
    cfg = _cfg(dataset, f'frhead_{method}_j')
    model = MODELS.build(cfg.model)
    plain = MODELS.build(_cfg(dataset, base_name).model)
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing
    assert unexpected and all(k.startswith('aux_heads.fr.')
                              for k in unexpected)
    if dataset.startswith('ntu'):  # 60 classes for NTU60, not released 120
        head = model.aux_heads['fr']
        assert sum(p.numel() for p in head.parameters()) == 536_956
        classes = 60 if dataset == 'ntu60_xsub' else 120
        assert all(b.shape == (classes, 256)
                   for n, b in head.named_buffers()
                   if n.endswith('prototypes'))


def test_stgcnpp_example_uses_the_frhead_recipe():
    cfg = _cfg('ntu60_xsub', 'frhead_stgcnpp_j')
    ref = _cfg('ntu60_xsub', 'frhead_ctrgcn_j')
    plain = _cfg('ntu60_xsub', 'stgcnpp_j')
    assert cfg.model.backbone.type == 'STGCNTaps'
    backbone = dict(cfg.model.backbone, type='STGCN')
    assert backbone == plain.model.backbone
    assert cfg.model.aux_heads == ref.model.aux_heads
    assert cfg.train_cfg == ref.train_cfg
    assert cfg.train_dataloader == ref.train_dataloader


def test_fusion_presets_are_the_published_ensemble_weights():
    assert WEIGHT_PRESETS['frhead_ntu60_xsub'] == (2, 2, 1, 1)
    assert WEIGHT_PRESETS['frhead_ntu60_xview'] == (0.6, 0.6, 0.4, 0.4)
    assert WEIGHT_PRESETS['frhead_nwucla'] == (0.6, 0.6, 0.4, 0.4)
    assert WEIGHT_PRESETS['frhead_ntu120_xsub'] == (0.6, 0.75, 0.3, 0.15)
    assert WEIGHT_PRESETS['frhead_ntu120_xset'] == (0.6, 0.75, 0.3, 0.15)
    assert 'frhead_finegym' not in WEIGHT_PRESETS  # none was published
