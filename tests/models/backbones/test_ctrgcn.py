import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from mmskelcl.models.backbones import CTRGCN
from mmskelcl.models.layers import MultiScaleTCN


def _num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('layout,num_person,num_classes,expected', [
    ('nturgb+d', 2, 60, 1_446_672),  # official CTR-GCN, NTU RGB+D 60
    ('nwucla', 1, 10, 1_426_892),    # official CTR-GCN, NW-UCLA
])
def test_official_parameter_count(layout, num_person, num_classes, expected):
    model = MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout=layout),
                           num_person=num_person),
             cls_head=dict(type='GCNHead', num_classes=num_classes,
                           in_channels=256)))
    assert _num_params(model) == expected


def test_default_output_matches_gcnhead_convention():
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, base_channels=8)
    x = torch.randn(2, 1, 16, 17, 3)
    out = m(x)
    assert out.shape == (2, 1, 32, 4, 17)  # (N, M, C, T/4, V)
    head = MODELS.build(dict(type='GCNHead', num_classes=5, in_channels=32))
    assert head(out).shape == (2, 5)


def test_taps_shapes_and_values():
    torch.manual_seed(0)
    m = CTRGCN(graph_cfg=dict(layout='nturgb+d'), num_person=2,
               base_channels=8).eval()
    x = torch.randn(3, 2, 16, 25, 3)
    plain = m(x)
    feat, taps = m(x, taps=('block1', 'block5', 'block8', 'block10',
                            'topology', 'topology_full'))
    torch.testing.assert_close(feat, plain)  # taps do not change the output
    assert taps['block1'].shape == (3, 2, 8, 16, 25)
    assert taps['block5'].shape == (3, 2, 16, 8, 25)
    assert taps['block8'].shape == (3, 2, 32, 4, 25)
    torch.testing.assert_close(taps['block10'], feat)
    # values: a forward written out here, through the MVC data BN (with
    # non-trivial statistics) and then the blocks one by one; block i's
    # output must be tap 'block{i}' (an off-by-one tap fails this)
    with torch.no_grad():
        m.data_bn.running_mean.uniform_(-1, 1)
        m.data_bn.running_var.uniform_(0.5, 2)
        out, got = m(x, taps=('block1', 'block5', 'block8'))
        N, M, T, V, C = x.shape
        y = x.permute(0, 1, 3, 4, 2).reshape(N, M * V * C, T)  # (M, V, C)
        y = m.data_bn(y).view(N, M, V, C, T).permute(0, 1, 3, 4, 2)
        y = y.reshape(N * M, C, T, V)
        manual = {}
        for i, block in enumerate(m.blocks, 1):
            y = block(y)
            manual[i] = y.view(N, M, *y.shape[1:])
    for i in (1, 5, 8):
        torch.testing.assert_close(got[f'block{i}'], manual[i])
        # and not its neighbour's (same shape, other values)
        assert not torch.allclose(got[f'block{i}'], manual[i + 1])
    torch.testing.assert_close(out, manual[10])
    assert taps['topology_full'].shape == (3, 2, 3, 32, 25, 25)
    assert taps['topology'].shape == (3, 3, 25, 25)
    torch.testing.assert_close(taps['topology'],
                               taps['topology_full'].mean(dim=(1, 3)))


def test_topology_is_pre_alpha_refinement():
    """The topology tap is conv4(tanh(...)) of the last block, not Q*a+A."""
    torch.manual_seed(0)
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, base_channels=8,
               num_stages=2, inflate_stages=(), down_stages=()).eval()
    with torch.no_grad():
        m.blocks[-1].gcn.alpha.fill_(5.0)
    x = torch.randn(2, 1, 6, 17, 3)
    captured = {}
    last = m.blocks[-1]
    handle = last.register_forward_pre_hook(
        lambda mod, args: captured.setdefault('x', args[0].clone()))
    _, taps = m(x, taps=('topology_full', ))
    handle.remove()
    expected = torch.stack([c.topology(captured['x'])
                            for c in last.gcn.convs], dim=1)
    torch.testing.assert_close(taps['topology_full'][:, 0], expected)


def test_configured_out_taps_and_errors():
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, base_channels=8,
               out_taps=('block2', ))
    feat, taps = m(torch.randn(1, 1, 8, 17, 3))
    assert set(taps) == {'block2'}
    with pytest.raises(ValueError, match='no tap'):
        m(torch.randn(1, 1, 8, 17, 3), taps=('block99', ))
    with pytest.raises(ValueError, match='num_person=1'):
        m(torch.randn(1, 2, 8, 17, 3))


def test_official_init():
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, base_channels=8)
    for block in m.blocks:
        assert torch.all(block.gcn.bn.weight == 1e-6)
        assert torch.all(block.gcn.alpha == 0)
    m.init_weights()
    assert torch.all(m.blocks[0].gcn.bn.weight == 1e-6)


def _bn_weights(module, inside_tcn):
    """BN weights inside (or outside) every multi-scale TCN of ``module``."""
    in_tcn = {id(b) for t in module.modules() if isinstance(t, MultiScaleTCN)
              for b in t.modules() if isinstance(b, torch.nn.BatchNorm2d)}
    bns = [b for b in module.modules()
           if isinstance(b, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))
           and (id(b) in in_tcn) == inside_tcn]
    return (torch.cat([b.weight.detach() for b in bns]),
            torch.cat([b.bias.detach() for b in bns]))


def test_official_init_draws_tcn_bn_weights_as_released():
    """Released MultiScale_TemporalConv: self.apply(weights_init), BN
    weight ~ N(1, 0.02), bias 0; every other BN weight 1 (the spatial
    unit's output BN 1e-6), bias 0."""
    torch.manual_seed(0)
    m = CTRGCN(graph_cfg=dict(layout='nturgb+d'), num_person=2)
    for model_init in (False, True):  # at construction, then init_weights
        if model_init:
            m.init_weights()
        w, b = _bn_weights(m, inside_tcn=True)
        # 7 BNs of C/4 channels per block: 7 * (4*16 + 3*32 + 3*64) = 2464
        assert w.numel() == 2464
        assert abs(w.mean().item() - 1) < 0.002  # 5 standard errors
        assert 0.018 < w.std().item() < 0.022
        assert len(w.unique()) > 2000 and torch.all(b == 0)
        w, b = _bn_weights(m, inside_tcn=False)
        # data BN + per block: gcn BN (1e-6), gcn residual BN where the
        # channels change, block residual BN where channels/stride change
        assert int((w == 1e-6).sum()) == sum(
            blk.gcn.bn.weight.numel() for blk in m.blocks)
        assert torch.all((w == 1) | (w == 1e-6)) and torch.all(b == 0)


def test_official_init_switch_keeps_tcn_bn_weights_at_one():
    torch.manual_seed(0)
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, base_channels=16,
               init_cfg=dict(type='CTRGCNInit', tcn_bn_std=0))
    m.init_weights()
    w, _ = _bn_weights(m, inside_tcn=True)
    assert torch.all(w == 1)
    assert torch.all(m.blocks[0].gcn.bn.weight == 1e-6)
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, base_channels=16,
               init_cfg=dict(type='CTRGCNInit'))  # the released default
    m.init_weights()
    w, _ = _bn_weights(m, inside_tcn=True)
    assert 0.01 < w.std().item() < 0.03


def _classifier(init_cfg_type=None):
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    cfg = Config.fromfile(osp.join(root, 'configs', '_base_', 'models',
                                   'ctrgcn.py'))
    if init_cfg_type:
        cfg.merge_from_dict({'model.cls_head.init_cfg.type': init_cfg_type})
    model = MODELS.build(cfg.model)
    model.init_weights()
    fcs = [m for m in model.cls_head.modules()
           if isinstance(m, torch.nn.Linear)]
    assert len(fcs) == 1 and fcs[0].weight.shape == (60, 256)
    return fcs[0]


def test_classifier_init_as_released():
    """Released: nn.init.normal_(fc.weight, 0, sqrt(2 / K)) only, so the
    bias keeps nn.Linear's default U(-1/sqrt(256), 1/sqrt(256))."""
    torch.manual_seed(0)
    fc = _classifier()
    bound = 1 / 256**0.5
    assert abs(fc.weight.std().item() / (2 / 60)**0.5 - 1) < 0.05
    assert abs(fc.weight.mean().item()) < 0.01
    bias = fc.bias.detach()
    assert torch.all(bias.abs() <= bound) and torch.all(bias != 0)
    # uniform on [-b, b]: std b / sqrt(3); 60 draws
    assert 0.6 < bias.std().item() / (bound / 3**0.5) < 1.4
    assert bias.max() > bound / 2 and bias.min() < -bound / 2
    # switch: mmengine's Normal sets the bias to 0 (the previous default)
    fc = _classifier('Normal')
    assert torch.all(fc.bias == 0)
    assert abs(fc.weight.std().item() / (2 / 60)**0.5 - 1) < 0.05


def test_in_channels_of_stacked_streams():
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, in_channels=6,
               base_channels=8)
    assert m(torch.randn(1, 1, 8, 17, 6)).shape == (1, 1, 32, 2, 17)
