"""BankContrast: the bank -> similarity -> sampler -> loss unit, its swappable
parts, label-free FIFO updates, and several units in one head."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.logging import MessageHub

from mmskelcl.models.memory import BankContrast, MemoryBank, SampledPairs


@pytest.fixture(autouse=True)
def _epoch0():
    MessageHub.get_current_instance().update_info('epoch', 0)
    yield
    MessageHub.get_current_instance().update_info('epoch', 0)


def _z(n, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=1)


@MODELS.register_module(name='_AllPairsSampler', force=True)
class _AllPairsSampler(torch.nn.Module):
    """Test sampler: every other valid same-class slot is a positive, every
    valid other-class slot a negative."""

    def forward(self, sim, labels, bank_labels, bank_valid, self_slots=None):
        B, Q = sim.shape
        same = (labels[:, None] == bank_labels[None]) & bank_valid[None]
        if self_slots is not None:
            same[torch.arange(B), self_slots] = False
        other = (labels[:, None] != bank_labels[None]) & bank_valid[None]
        idx = torch.arange(Q).expand(B, Q)
        return SampledPairs(pos_idx=idx, pos_mask=same,
                            neg_sets=[(idx, other)],
                            eligible=same.any(1) & other.any(1))


def test_hand_computed_loss_with_a_swapped_sampler():
    """Bank of 3 after the update (anchor in slot 0, labels 0, 0, 1), one
    anchor: pos = slot 1, neg = slot 2, tau = 0.5:
    loss = -s01/tau + log(exp(s01/tau) + exp(s02/tau))."""
    unit = BankContrast(dim=4, bank=dict(size=3),
                        sampler=dict(type='_AllPairsSampler'),
                        loss=dict(temperature=0.5))
    z = _z(3)
    unit.bank.update(z[1:], torch.tensor([0, 1]), torch.tensor([1, 2]))
    out = unit(z[:1].requires_grad_(), torch.tensor([0]), torch.tensor([0]))
    s01, s02 = float(z[0] @ z[1]), float(z[0] @ z[2])
    expected = -s01 / .5 + math.log(math.exp(s01 / .5) + math.exp(s02 / .5))
    assert float(out['loss_contrast']) == pytest.approx(expected, abs=1e-5)
    assert float(out['contrast_anchors']) == 1.0
    assert type(unit.sampler).__name__ == '_AllPairsSampler'


def test_update_before_or_after_the_loss():
    """Before: the anchor's own fresh entry is in the bank when the loss is
    computed (and excluded as its own positive); after: the loss sees the
    old bank and the batch is written afterwards."""
    z_old, z_new = _z(2, seed=1), _z(2, seed=2)
    labels, idx = torch.tensor([0, 0]), torch.tensor([0, 1])
    results = {}
    for before in (True, False):
        unit = BankContrast(dim=4, bank=dict(size=2),
                            sampler=dict(type='_AllPairsSampler'),
                            loss=dict(temperature=1.0),
                            update_before_loss=before)
        unit.bank.update(z_old, labels, idx)
        z = z_new.clone().requires_grad_()
        sims = []
        orig = unit.loss_fn.forward

        def spy(sim, pairs, orig=orig, sims=sims):
            sims.append(sim.detach().clone())
            return orig(sim, pairs)

        unit.loss_fn.forward = spy
        unit(z, labels, idx)
        results[before] = sims[0]
        torch.testing.assert_close(unit.bank.feats, z_new)  # written either way
    torch.testing.assert_close(results[True], z_new @ z_new.t())
    torch.testing.assert_close(results[False], z_new @ z_old.t())


def test_start_epoch_zeroes_the_loss_but_fills_the_bank():
    unit = BankContrast(dim=4, bank=dict(size=4), start_epoch=2)
    out = unit(_z(2).requires_grad_(), torch.tensor([0, 1]),
               torch.tensor([0, 1]))
    assert float(out['loss_contrast']) == 0
    assert unit.bank.valid.tolist() == [True, True, False, False]


def test_loss_name_must_be_optimised():
    with pytest.raises(ValueError, match='start with "loss"'):
        BankContrast(dim=4, loss_name='contrast')


def test_label_free_fifo_queue():
    """A self-supervised queue: no labels, no indices, the oldest entries
    are overwritten, labels stored as -1."""
    bank = MemoryBank(dim=4, size=5, mode='fifo')
    a, b = _z(3, seed=3), _z(3, seed=4)
    bank.update(a)
    bank.update(b)
    # slots 0..2 <- a, then 3, 4, 0 <- b
    torch.testing.assert_close(bank.feats[[3, 4, 0]], b)
    torch.testing.assert_close(bank.feats[[1, 2]], a[1:])
    assert bank.labels.tolist() == [-1] * 5
    assert int(bank.ptr) == 1 and bool(bank.valid.all())
    with pytest.raises(ValueError, match='labels for'):
        bank.update(a, torch.tensor([0]))


@MODELS.register_module(name='_TwoUnitHead', force=True)
class _TwoUnitHead(torch.nn.Module):
    """A CSRE-shaped owner: two units with their own banks."""

    def __init__(self):
        super().__init__()
        self.spatial = MODELS.build(dict(type='BankContrast', dim=4,
                                         bank=dict(size=6),
                                         loss_name='loss_spatial'))
        self.temporal = MODELS.build(dict(type='BankContrast', dim=4,
                                          bank=dict(size=6, mode='fifo'),
                                          loss_name='loss_temporal'))


def test_one_head_owns_several_units_with_separate_state():
    head = MODELS.build(dict(type='_TwoUnitHead'))
    keys = set(head.state_dict())
    assert {'spatial.bank.feats', 'temporal.bank.feats'} <= keys
    out = {}
    labels, idx = torch.tensor([0, 1, 0]), torch.tensor([0, 1, 2])
    out.update(head.spatial(_z(3, seed=5).requires_grad_(), labels, idx))
    out.update(head.temporal(_z(3, seed=6).requires_grad_(), labels, idx))
    assert {'loss_spatial', 'loss_temporal', 'spatial_anchors',
            'temporal_anchors'} == set(out)
    assert not torch.equal(head.spatial.bank.feats[:3],
                           head.temporal.bank.feats[:3])


def test_graph_head_checkpoints_before_the_unit_still_load():
    """State dicts written when the bank was ``aux_heads.graph.bank.*``."""
    kw = dict(num_classes=3, in_dim=12, proj_dim=4, bank=dict(size=5))
    src = MODELS.build(dict(type='GraphContrastHead', **kw))
    src.bank.update(_z(2), torch.tensor([1, 2]), torch.tensor([3, 4]))
    old = {k.replace('contrast.', ''): v for k, v in src.state_dict().items()}
    assert 'bank.feats' in old
    dst = MODELS.build(dict(type='GraphContrastHead', **kw))
    dst.load_state_dict(old)
    torch.testing.assert_close(dst.bank.feats, src.bank.feats)
    assert dst.bank.labels.tolist() == src.bank.labels.tolist()
