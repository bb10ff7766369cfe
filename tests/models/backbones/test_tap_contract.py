"""The tap contract, over every registered tapped backbone.

Each registered backbone that implements the tap protocol must appear in
``TINY`` (a small config and an input): a new encoder that publishes taps
is covered by every test here, and one that is missing fails
``test_every_tapped_backbone_is_covered``. An encoder adds its entries in
its own ``tiny_<encoder>.py`` next to this file (a dict named ``TINY``).
"""
import glob
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS

from mmskelcl.models.utils.taps import TapMixin
from tool_helpers import load_module

NTU = dict(layout='nturgb+d', mode='spatial')

#: name -> (backbone config, input (N, M, T, V, C))
TINY = {
    'CTRGCN': (dict(type='CTRGCN', graph_cfg=dict(layout='nwucla'),
                    num_person=1, base_channels=16), (2, 1, 13, 20, 3)),
    'STGCNTaps': (dict(type='STGCNTaps', graph_cfg=dict(
        layout='nturgb+d', mode='stgcn_spatial'), base_channels=16),
                  (2, 2, 15, 25, 3)),
    'AAGCNTaps': (dict(type='AAGCNTaps', graph_cfg=NTU, base_channels=16),
                  (2, 2, 15, 25, 3)),
}
for _path in sorted(glob.glob(osp.join(osp.dirname(__file__), 'tiny_*.py'))):
    TINY.update(load_module(_path, osp.basename(_path)[:-3]).TINY)


def tapped_backbones():
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, TapMixin))


def build(name, **kwargs):
    cfg, shape = TINY[name]
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg, **kwargs))
    return model, torch.randn(shape)


def test_every_tapped_backbone_is_covered():
    names = tapped_backbones()
    assert {'CTRGCN', 'STGCNTaps', 'AAGCNTaps'} <= set(names)
    missing = [n for n in names if n not in TINY]
    assert not missing, f'add a tiny config for {missing} to TINY'


@pytest.mark.parametrize('name', sorted(TINY))
def test_published_metadata_equals_forward_shapes(name):
    model, x = build(name)
    model.eval()
    info = model.tap_info(num_frames=x.shape[2])
    assert list(info) == list(model.available_taps)
    _, taps = model(x, taps=model.available_taps)
    N, M = x.shape[:2]
    for tap, out in taps.items():
        meta = info[tap]
        assert out.dim() == len(meta.layout), tap
        if meta.layout == 'NMKCVV':  # the full topology
            assert tuple(out.shape) == (N, M, meta.subsets, meta.channels,
                                        meta.num_joints, meta.num_joints)
        else:
            assert tuple(out.shape) == meta.shape(N, M), tap
    # channels and frames of the published table, independent of the
    # forward: the last 'NMCTV' tap is the backbone's output
    feats = model(x)
    last = [t for t in info if info[t].layout == 'NMCTV'][-1]
    assert feats.shape[2] == info[last].channels
    assert feats.shape[3] == info[last].num_frames


@pytest.mark.parametrize('name', sorted(TINY))
def test_metadata_needs_no_forward_and_scales_with_clip_len(name):
    model, _ = build(name)
    a = model.tap_info(num_frames=64)
    b = model.tap_info(num_frames=65)
    for tap in a:
        if 'T' not in a[tap].layout:
            assert a[tap].num_frames is None
            continue
        s = a[tap].temporal_stride
        # stride-s "same" convolutions: ceil(T / s) (64 -> 64/s, 65 -> +1);
        # pooling (ceil_mode=False): floor
        assert a[tap].num_frames == 64 // s
        assert b[tap].num_frames == (-(-65 // s) if a[tap].ceil_mode
                                     else 65 // s)
    assert all(i.num_frames is None for i in model.tap_info().values())


@pytest.mark.parametrize('name', sorted(TINY))
def test_tapped_forward_returns_exactly_the_untapped_features(name):
    model, x = build(name)
    model.eval()
    head = MODELS.build(
        dict(type='GCNHead', num_classes=5,
             in_channels=model.tap_info()[[
                 t for t in model.available_taps
                 if model.tap_info()[t].layout == 'NMCTV'][-1]].channels))
    head.eval()
    with torch.no_grad():
        plain = model(x)
        tapped, _ = model(x, taps=model.available_taps)
        assert torch.equal(plain, tapped)
        assert torch.equal(head(plain), head(tapped))


@pytest.mark.parametrize('name', sorted(TINY))
def test_unknown_tap_is_refused_with_the_available_list(name):
    model, x = build(name)
    with pytest.raises(ValueError, match='available'):
        model(x, taps=('no_such_tap', ))
