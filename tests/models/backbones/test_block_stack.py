"""The block-stack frame (mmskelcl.models.utils.block_stack): stage plans,
released init vs init_cfg, and tap order."""
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmskelcl.models.backbones.agcn import AGCN
from mmskelcl.models.backbones.ctrgcn import CTRGCN
from mmskelcl.models.backbones.infogcn import InfoGCN
from mmskelcl.models.utils.block_stack import (BlockStackMixin, stage_io,
                                               stage_plan)
from mmskelcl.models.utils.weight_init import CTRGCNInit


def test_stage_plan_by_hand():
    # CTR-GCN / 2s-AGCN: 64 x4, 128 x3, 256 x3, stride 2 at 5 and 8
    plan = stage_plan(64, 10, (5, 8), (5, 8))
    assert [c for c, _ in plan] == [64] * 4 + [128] * 3 + [256] * 3
    assert [s for _, s in plan] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    # InfoGCN: nine blocks, 64 x3, 128 x3, 256 x3
    assert stage_plan(64, 9, (4, 7), (4, 7)) == [
        (64, 1), (64, 1), (64, 1), (128, 2), (128, 1), (128, 1), (256, 2),
        (256, 1), (256, 1)]
    # a ratio of 3, inflating without striding
    assert stage_plan(8, 3, (2, 3), (), ratio=3) == [(8, 1), (24, 1), (72, 1)]


def test_stage_io_chains_the_channels():
    plan = [(64, 1), (128, 2), (128, 1)]
    assert stage_io(3, plan) == [(3, 64, 1), (64, 128, 2), (128, 128, 1)]
    assert stage_io(5, [(7, 2)]) == [(5, 7, 2)]


def test_blocks_follow_the_plan():
    m = InfoGCN(graph_cfg=dict(layout='nwucla'), num_person=1)
    x = torch.randn(1, 1, 20, 20, 3)
    _, taps = m(x, taps=[f'block{i}' for i in range(1, 10)])
    shapes = [tuple(taps[f'block{i}'].shape[2:4]) for i in range(1, 10)]
    assert shapes == [(64, 20)] * 3 + [(128, 10)] * 3 + [(256, 5)] * 3


def test_extra_taps_come_before_final():
    m = CTRGCN(graph_cfg=dict(layout='nwucla'), num_person=1)
    assert m.available_taps[-3:] == ('topology', 'topology_full', 'final')
    info = m.tap_info(52)
    assert info['topology'].layout == 'NKVV' and info['final'].num_frames == 13
    assert info['final'] == info['block10']


def test_released_init_unless_init_cfg():
    torch.manual_seed(0)
    m = AGCN(graph_cfg=dict(layout='nwucla'), num_person=1)
    bn = m.blocks[0].gcn.bn.weight
    assert torch.all(bn == 1e-6)  # released: the graph unit's output BN
    with torch.no_grad():
        bn.fill_(3.)
    m.init_weights()
    assert torch.all(bn == 1e-6)
    c = AGCN(graph_cfg=dict(layout='nwucla'), num_person=1,
             init_cfg=dict(type='Constant', layer='BatchNorm2d', val=0.5))
    c.init_weights()
    assert torch.all(c.blocks[0].gcn.bn.weight == 0.5)


def test_ctrgcn_init_rejects_other_backbones():
    with pytest.raises(TypeError, match='CTRGCN'):
        CTRGCNInit()(AGCN(graph_cfg=dict(layout='nwucla'), num_person=1))
    m = CTRGCN(graph_cfg=dict(layout='nwucla'), num_person=1)
    CTRGCNInit(tcn_bn_std=0)(m)
    tcn_bns = [b for b in m.blocks[0].tcn.modules()
               if isinstance(b, nn.BatchNorm2d)]
    assert tcn_bns and all(torch.all(b.weight == 1) for b in tcn_bns)


def test_missing_released_init_says_so():

    class Bare(BlockStackMixin, BaseModule):
        num_joints = 3

        def __init__(self):
            super().__init__()
            self.stem = nn.Identity()
            self.blocks = nn.ModuleList([nn.Identity()])

        def _stage_modules(self):
            return [self.stem, *self.blocks]

    m = Bare()
    with pytest.raises(NotImplementedError, match='released_init'):
        m._finish_init([(4, 1)], (), -1, False)


@pytest.mark.parametrize('cls', [AGCN, InfoGCN])
def test_person_slots_are_checked(cls):
    m = cls(graph_cfg=dict(layout='nwucla'), num_person=1)
    with pytest.raises(ValueError, match='num_person=1 .* 2 persons'):
        m(torch.randn(1, 2, 8, 20, 3))


def test_a_stack_without_a_stem_says_so():

    class NoStem(BlockStackMixin, BaseModule):
        num_joints = 3

        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Identity()])

        def released_init(self):
            pass

        def _stage_modules(self):
            return [nn.Identity(), *self.blocks]

    m = NoStem()
    m._finish_init([(4, 1)], (), -1, False)
    assert m.available_taps == ('block1', 'final')
    with pytest.raises(NotImplementedError, match='_stem_forward'):
        m(torch.zeros(1, 1, 2, 3, 4))
