"""SampledInfoNCELoss: hand-computed values, the CrossEntropy form, and the
vectorised sampler + loss against the per-sample reference
(``reference_gcl.reference_bank_loss``, SkeletonGCL's InfoNCEGraph style)."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmskelcl.models.heads import GraphContrastHead
from mmskelcl.models.losses import SampledInfoNCELoss
from mmskelcl.models.memory import ContrastiveSampler, SampledPairs

from bank_helpers import random_bank
from reference_gcl import reference_bank_loss

T = torch.tensor


def test_hand_computed_infonce():
    """1 anchor, 2 positives (sims .9, .5), 3 negatives (.3, -.2, .1),
    tau = .5:

    row 1: logits [1.8, .6, -.4, .2]: -1.8 + log(e^1.8 + e^.6 + e^-.4 + e^.2)
           = -1.8 + log(6.04965 + 1.82212 + 0.67032 + 1.22140) = 0.478650
    row 2: logits [1.0, .6, -.4, .2]: -1.0 + log(2.71828 + 3.71384)
           = 0.861305
    loss = (0.478650 + 0.861305) / 2 = 0.669977
    """
    sim = T([[0.9, 0.5, 0.3, -0.2, 0.1]], dtype=torch.float64)
    pairs = SampledPairs(pos_idx=T([[0, 1]]), pos_mask=T([[True, True]]),
                         neg_sets=[(T([[2, 3, 4]]), T([[True] * 3]))],
                         eligible=T([True]))
    loss = SampledInfoNCELoss(temperature=0.5)(sim, pairs)
    neg = math.exp(0.6) + math.exp(-0.4) + math.exp(0.2)
    row1 = -1.8 + math.log(math.exp(1.8) + neg)
    row2 = -1.0 + math.log(math.exp(1.0) + neg)
    assert row1 == pytest.approx(0.478650, abs=1e-6)
    assert row2 == pytest.approx(0.861305, abs=1e-6)
    assert float(loss) == pytest.approx((row1 + row2) / 2, abs=1e-12)
    assert float(loss) == pytest.approx(0.669977, abs=1e-6)
    # loss_weight scales, the order of the negatives does not matter
    pairs.neg_sets = [(T([[4, 2, 3]]), T([[True] * 3]))]
    loss2 = SampledInfoNCELoss(temperature=0.5, loss_weight=2.)(sim, pairs)
    assert float(loss2) == pytest.approx(2 * (row1 + row2) / 2, abs=1e-12)


def test_equals_cross_entropy_rows():
    """Every (eligible anchor, real positive, negative set) row is
    ``F.cross_entropy(cat([pos, negs]) / tau, 0)``; the loss is their mean.
    Masked negatives are left out of their row."""
    g = torch.Generator().manual_seed(0)
    B, Q, P, N, tau = 5, 30, 4, 6, 0.7
    sim = (torch.rand(B, Q, generator=g, dtype=torch.float64) * 2 - 1)
    sim.requires_grad_(True)
    pos_idx = torch.randint(0, Q, (B, P), generator=g)
    pos_mask = torch.rand(B, P, generator=g) < 0.7
    sets = [(torch.randperm(Q, generator=g)[:N].repeat(B, 1),
             torch.rand(B, N, generator=g) < 0.8) for _ in range(2)]
    for _, m in sets:
        m[:, 0] = True  # at least one negative per row
    eligible = T([True, True, False, True, True])
    loss = SampledInfoNCELoss(temperature=tau)(
        sim, SampledPairs(pos_idx, pos_mask, sets, eligible))
    rows = []
    for idx, mask in sets:
        for i in range(B):
            for p in range(P):
                if not (eligible[i] and pos_mask[i, p]):
                    continue
                logits = torch.cat([sim[i, pos_idx[i, p]].view(1),
                                    sim[i, idx[i][mask[i]]]]) / tau
                rows.append(F.cross_entropy(logits[None], T([0])))
    ref = torch.stack(rows).mean()
    torch.testing.assert_close(loss, ref)
    g1, = torch.autograd.grad(loss, sim)
    g2, = torch.autograd.grad(ref, sim)
    torch.testing.assert_close(g1, g2)


# ------------------------------------------------ vectorised vs reference
NUM_POS, NUM_NEG, TAU = 3, 7, 0.8


def _vectorised(raw, y, feats, bl, bv, sampler_kw, self_slots=None):
    z = F.normalize(raw, dim=1)
    sim = z @ feats.t()
    torch.manual_seed(0)
    sampler = ContrastiveSampler(num_pos=NUM_POS, num_neg=NUM_NEG,
                                 **sampler_kw)
    pairs = sampler(sim, y, bl, bv, self_slots=self_slots)
    return SampledInfoNCELoss(temperature=TAU)(sim, pairs), pairs


def _rand_neg_from(pairs, kw):
    """The random negatives the sampler drew, per anchor (fed to the
    reference so the random parts coincide)."""
    strat = kw['neg_strategy']
    if strat.startswith('R+') and kw.get('mix_mode', 'rows') == 'rows':
        idx, mask = pairs.neg_sets[0]
    elif strat.startswith('R+'):  # pool: [H/CA part | random part]
        n_rand = int(round(kw['rand_ratio'] * NUM_NEG))
        idx, mask = (t[:, NUM_NEG - n_rand:] for t in pairs.neg_sets[0])
    elif strat == 'R':
        idx, mask = pairs.neg_sets[0]
    else:
        return None
    return [idx[i][mask[i]].tolist() for i in range(idx.shape[0])]


CASES = [
    dict(pos_strategy='hard', neg_strategy='H'),
    dict(pos_strategy='easy', neg_strategy='H'),
    dict(pos_strategy='hard', neg_strategy='CA'),
    dict(pos_strategy='easy', neg_strategy='CA'),
    dict(pos_strategy='hard', neg_strategy='R'),
    dict(pos_strategy='hard', neg_strategy='R+H'),
    dict(pos_strategy='hard', neg_strategy='R+CA'),
    dict(pos_strategy='hard', neg_strategy='R+H', mix_mode='pool',
         rand_ratio=0.3),
    dict(pos_strategy='hard', neg_strategy='R+CA', mix_mode='pool',
         rand_ratio=0.6),
]


@pytest.mark.parametrize('kw', CASES,
                         ids=lambda c: '-'.join(map(str, c.values())))
@pytest.mark.parametrize('min_pos_policy', ['skip', 'use_available'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_per_sample_reference(kw, min_pos_policy, seed):
    """B=6, Q=40, 5 classes, N_+=3, N_c=7; class 4 is rare (2 valid
    entries) and anchor 0 belongs to it, so 'skip' drops that anchor and
    'use_available' keeps it with 2 rows per negative set."""
    raw, y, feats, bl, bv = random_bank(seed, B=6, Q=40, num_classes=5,
                                        rare_class=4, rare_count=2)
    raw_v = raw.clone().requires_grad_(True)
    loss_v, pairs = _vectorised(
        raw_v, y, feats, bl, bv,
        dict(kw, min_pos_policy=min_pos_policy, min_neg_policy='skip'))
    raw_r = raw.clone().requires_grad_(True)
    extra = {k: kw[k] for k in ('mix_mode', 'rand_ratio') if k in kw}
    loss_r = reference_bank_loss(
        F.normalize(raw_r, dim=1), feats, bl, bv, y, NUM_POS, NUM_NEG,
        kw['pos_strategy'], kw['neg_strategy'], TAU, min_pos_policy,
        rand_neg=_rand_neg_from(pairs, kw), **extra)
    assert pairs.eligible[0] == (min_pos_policy == 'use_available')
    assert pairs.eligible[1:].all()
    assert loss_v.item() > 0
    torch.testing.assert_close(loss_v, loss_r, rtol=1e-5, atol=1e-6)
    loss_v.backward()
    loss_r.backward()
    torch.testing.assert_close(raw_v.grad, raw_r.grad, rtol=1e-4, atol=1e-6)


def test_matches_reference_with_exclude_self():
    raw, y, feats, bl, bv = random_bank(5)
    self_slots = torch.tensor([3, 9, 17, 21, 30, 38])
    bl[self_slots], bv[self_slots] = y, True  # the anchors are in the bank
    kw = dict(pos_strategy='hard', neg_strategy='R+CA', exclude_self=True,
              min_pos_policy='skip', min_neg_policy='skip')
    raw_v = raw.clone().requires_grad_(True)
    loss_v, pairs = _vectorised(raw_v, y, feats, bl, bv, kw,
                                self_slots=self_slots)
    assert not (pairs.pos_idx == self_slots[:, None]).any()
    raw_r = raw.clone().requires_grad_(True)
    loss_r = reference_bank_loss(
        F.normalize(raw_r, dim=1), feats, bl, bv, y, NUM_POS, NUM_NEG,
        'hard', 'R+CA', TAU, 'skip', self_slots=self_slots.tolist(),
        rand_neg=_rand_neg_from(pairs, kw))
    torch.testing.assert_close(loss_v, loss_r, rtol=1e-5, atol=1e-6)
    loss_v.backward()
    loss_r.backward()
    torch.testing.assert_close(raw_v.grad, raw_r.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('update_before_loss', [False, True])
def test_graph_contrast_head_matches_reference(update_before_loss):
    """The head's wiring: projection -> bank -> sampler -> loss equals the
    reference on the bank the head used."""
    torch.manual_seed(0)
    head = GraphContrastHead(
        in_dim=3 * 4 * 4, num_classes=4, proj_dim=8,
        bank=dict(mode='index', size=24),
        sampler=dict(num_pos=2, num_neg=5, neg_strategy='CA',
                     min_pos_policy='skip', min_neg_policy='skip',
                     exclude_self=True),
        update_before_loss=update_before_loss)
    g = torch.Generator().manual_seed(1)
    for _ in range(3):  # fill the bank with earlier batches
        idx = torch.randperm(24, generator=g)[:8]
        taps = dict(topology=torch.randn(8, 3, 4, 4, generator=g))
        head.loss(taps, logits=None, labels=idx % 4, sample_idx=idx)
    idx = torch.tensor([0, 5, 10, 15, 20, 23])
    topo = torch.randn(6, 3, 4, 4, generator=g, requires_grad=True)
    labels = idx % 4
    before = {k: v.clone() for k, v in head.bank.state_dict().items()}
    out = head.loss(dict(topology=topo), logits=None, labels=labels,
                    sample_idx=idx)
    bank = before
    if update_before_loss:
        bank = {k: v.clone() for k, v in head.bank.state_dict().items()}
    z = head.embed(dict(topology=topo))
    ref = reference_bank_loss(
        z, bank['feats'], bank['labels'], bank['valid'], labels, 2, 5,
        'hard', 'CA', 0.8, 'skip', self_slots=idx.tolist())
    assert out['loss_contrast'].item() > 0
    torch.testing.assert_close(out['loss_contrast'], ref)
    ga, = torch.autograd.grad(out['loss_contrast'], topo)
    gb, = torch.autograd.grad(ref, topo)
    torch.testing.assert_close(ga, gb)
    # after the call the bank holds this batch either way
    torch.testing.assert_close(head.bank.feats[idx], z.detach())


# ------------------------------------------------ nothing eligible
def test_zero_loss_still_attached_when_nothing_eligible():
    raw = torch.randn(4, 8, requires_grad=True)
    feats = torch.zeros(10, 8)
    bl = torch.full((10, ), -1)
    bv = torch.zeros(10, dtype=torch.bool)  # an empty bank
    y = T([0, 1, 2, 0])
    for strat in ('R', 'H', 'CA', 'R+H', 'R+CA'):
        z = F.normalize(raw, dim=1)
        sim = z @ feats.t()
        pairs = ContrastiveSampler(num_pos=2, num_neg=3,
                                   neg_strategy=strat)(sim, y, bl, bv)
        assert not pairs.eligible.any()
        loss = SampledInfoNCELoss()(sim, pairs)
        assert loss.item() == 0 and loss.requires_grad
        grad, = torch.autograd.grad(loss, raw)
        assert torch.isfinite(grad).all() and not grad.any()
        ref = reference_bank_loss(z, feats, bl, bv, y, 2, 3, 'hard', strat,
                                  0.8)
        assert ref.item() == 0 and ref.requires_grad


def test_zero_loss_when_only_positives_exist():
    """A bank with one class: every anchor of that class has positives but
    no negative -> ineligible, zero loss, finite zero gradient."""
    raw = torch.randn(3, 8, requires_grad=True)
    z = F.normalize(raw, dim=1)
    feats = F.normalize(torch.randn(6, 8), dim=1)
    bl, bv = torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.bool)
    sim = z @ feats.t()
    pairs = ContrastiveSampler(num_pos=2, num_neg=3)(sim, T([0, 0, 0]), bl,
                                                     bv)
    assert not pairs.eligible.any()
    loss = SampledInfoNCELoss()(sim, pairs)
    loss.backward()
    assert loss.item() == 0
    assert torch.isfinite(raw.grad).all() and not raw.grad.any()


def test_ineligible_rows_do_not_leak_nan_gradients():
    """Eligible and ineligible anchors mixed; an ineligible anchor whose
    negative set is all masked (logsumexp of -inf) must not give NaN."""
    sim = torch.rand(2, 6, requires_grad=True)
    pairs = SampledPairs(
        pos_idx=T([[0, 1], [0, 1]]), pos_mask=T([[True, True]] * 2),
        neg_sets=[(T([[2, 3], [2, 3]]), T([[True, True], [False, False]]))],
        eligible=T([True, False]))
    loss = SampledInfoNCELoss()(sim, pairs)
    loss.backward()
    assert torch.isfinite(sim.grad).all()
    assert not sim.grad[1].any() and sim.grad[0].any()


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match='temperature'):
        SampledInfoNCELoss(temperature=0)
