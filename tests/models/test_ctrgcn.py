import pytest
import torch
from mmaction.registry import MODELS

from mmskelcl.models.backbones import CTRGCN


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


def test_in_channels_of_stacked_streams():
    m = CTRGCN(graph_cfg=dict(layout='coco'), num_person=1, in_channels=6,
               base_channels=8)
    assert m(torch.randn(1, 1, 8, 17, 6)).shape == (1, 1, 32, 2, 17)
