"""Every csre_<encoder>_<stream>.py is its baseline <encoder>_<stream>.py
plus the CSRE head and nothing else; the CSRE models build, size their
STFD from the encoder's final map and train one step."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASETS = ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset',
            'nwucla')
ENCODERS = ('ctrgcn', 'agcn', 'blockgcn', 'hyperformer', 'hcn')
#: variables of configs/_base_/models/aux_heads.py
HEAD_VARS = {'cacl', 'skeletongcl', 'frhead_stages', 'frhead_v0',
             'frhead_v1', 'csre'}


def _pairs():
    """(csre, baseline) stream files of the five benchmarks (the demo's
    CSRE scales the sampler to its small bank)."""
    files = sorted(f for d in DATASETS for f in glob.glob(
        osp.join(REPO, 'configs', d, 'csre_*.py')))
    return [(f, osp.join(osp.dirname(f), osp.basename(f)[5:])) for f in files]


def _rel(path):
    return osp.relpath(path, REPO)


def test_every_benchmark_encoder_and_stream_has_a_csre_config():
    names = {_rel(f) for f, _ in _pairs()}
    expected = {f'configs/{d}/csre_{e}_{s}.py' for d in DATASETS
                for e in ENCODERS for s in ('j', 'b', 'jm', 'bm')}
    expected |= {f'configs/nwucla/csre_infogcn_{s}.py'
                 for s in ('j', 'b', 'jm', 'bm')}
    assert not expected - names


def _inner(ds):
    return ds.get('dataset', ds)


@pytest.mark.parametrize('csre_file,base_file', _pairs(),
                         ids=lambda p: _rel(p))
def test_csre_config_differs_from_its_baseline_only_by_the_plug_in(
        csre_file, base_file):
    cfg = Config.fromfile(csre_file).to_dict()
    base = Config.fromfile(base_file).to_dict()
    model, base_model = cfg.pop('model'), base.pop('model')
    assert model.pop('type') == 'AuxRecognizerGCN'
    base_model.pop('type')
    heads = dict(model.pop('aux_heads'))
    assert heads.pop('csre') == dict(type='CSREHead')
    assert heads == dict(base_model.pop('aux_heads', {}))
    assert model.pop('num_frames') == cfg['clip_len'] == base['clip_len']
    base_model.pop('num_frames', None)
    assert model == base_model
    hooks = cfg.pop('custom_hooks')
    assert hooks == base.pop('custom_hooks', []) + [
        dict(type='MemoryBankHook')]
    if '/nwucla/' in csre_file:  # a bank slot per repeated copy
        ds, base_ds = (cfg['train_dataloader']['dataset'],
                       base['train_dataloader']['dataset'])
        assert (ds.pop('type'), base_ds.pop('type')) == (
            'IndexedRepeatDataset', 'RepeatDataset')
        assert ds.pop('index_per_copy') is True
    for var in HEAD_VARS:
        cfg.pop(var, None)
        base.pop(var, None)
    cfg.pop('work_dir', None)
    base.pop('work_dir', None)
    assert cfg == base


def _one_per_encoder():
    out = []
    for f, _ in _pairs():
        name = osp.basename(f)
        if name.endswith('_j.py') and ('/nwucla/' in f
                                       or '/ntu60_xsub/' in f):
            out.append(f)
    return out


@pytest.mark.parametrize('csre_file', _one_per_encoder(),
                         ids=lambda p: _rel(p))
def test_csre_model_builds_and_trains_a_step(csre_file):
    MessageHub.get_current_instance().update_info('epoch', 0)
    cfg = Config.fromfile(csre_file)
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    head = model.aux_heads['csre']
    final = model.backbone.tap_info(cfg.clip_len)['final']
    stfd = head.stfd
    rel = final.channels // 8
    assert stfd.proj['spatial'].in_features == rel * final.num_joints
    assert stfd.proj['temporal'].in_features == rel * final.num_frames
    for unit in head.contrast.values():
        unit.bank.resize(8)
    persons = cfg.model.backbone.get('num_person', 2)
    channels = cfg.model.backbone.get('in_channels', 3)
    joints = final.num_joints if 'hcn' not in csre_file else \
        (20 if '/nwucla/' in csre_file else 25)
    x = torch.randn(2, 1, persons, cfg.clip_len, joints, channels)
    samples = []
    for i in range(2):
        ds = ActionDataSample().set_gt_label(i)
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
    losses = model.loss(x, samples)
    assert {'loss_csre_spatial', 'loss_csre_temporal'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
