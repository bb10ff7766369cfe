"""ContrastiveSampler on hand-built banks whose answers are written out
(see the table in ``bank_helpers``), plus property tests on random banks."""
import zlib
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from mmskelcl.models.memory import ContrastiveSampler, SampledPairs
from mmskelcl.models.memory.sampler import masked_topk

from bank_helpers import (BANK_LABELS, BANK_VALID, CA_CLASSES, CA_ORDER,
                            EASY_POS, H_ORDER, HARD_POS, NEG, POS, SIM,
                            hand_bank)


def _sampler(**kw):
    kw.setdefault('min_pos_policy', 'use_available')
    kw.setdefault('min_neg_policy', 'use_available')
    return ContrastiveSampler(**kw)


def _picked(idx, mask, row):
    """The allowed picks of one anchor, in selection order."""
    return [int(i) for i, m in zip(idx[row], mask[row]) if m]


def _run(repeat=1, seed=0, **kw):
    torch.manual_seed(seed)
    sim, y, bl, bv = hand_bank(repeat)
    return _sampler(**kw)(sim, y, bl, bv)


# ---------------------------------------------------------------- basics
def test_masked_topk_pads_with_disallowed():
    key = torch.tensor([[3., 1., 2., 5.]])
    mask = torch.tensor([[True, True, False, False]])
    idx, ok = masked_topk(key, mask, 3, largest=True)
    assert idx[0, :2].tolist() == [0, 1] and ok.tolist() == [[True, True,
                                                              False]]
    idx, ok = masked_topk(key, mask, 9, largest=False)  # k clipped to Q
    assert idx.shape == (1, 4) and idx[0, :2].tolist() == [1, 0]
    assert ok.sum() == 2


def test_hand_bank_from_vectors():
    """The similarities of anchor 0 come from real unit vectors."""
    s = SIM[0]
    feats = torch.stack([s, (1 - s**2).clamp(min=0).sqrt()], 1)
    z = torch.tensor([[1., 0.]])
    sim = z @ F.normalize(feats, dim=1).t()
    torch.testing.assert_close(sim[0], s)
    pairs = _sampler(num_pos=2, num_neg=4, neg_strategy='CA')(
        sim, torch.tensor([0]), BANK_LABELS, BANK_VALID)
    assert _picked(pairs.pos_idx, pairs.pos_mask, 0) == [3, 1]
    assert _picked(*pairs.neg_sets[0], 0) == [7, 11, 8, 4]


# ------------------------------------------------------------ positives
@pytest.mark.parametrize('n', [1, 2, 3])
def test_hard_positives_are_the_lowest_similarity_same_class(n):
    p = _run(num_pos=n, num_neg=2, pos_strategy='hard', neg_strategy='H')
    assert isinstance(p, SampledPairs)
    for row in (0, 1):
        assert _picked(p.pos_idx, p.pos_mask, row) == HARD_POS[row][:n]
    assert p.eligible.all()


def test_easy_positives_are_the_highest_similarity_same_class():
    p = _run(num_pos=3, num_neg=2, pos_strategy='easy', neg_strategy='H')
    # anchor 1: slot 13 (class 1, sim .99) is stale and never chosen
    assert _picked(p.pos_idx, p.pos_mask, 0) == EASY_POS[0][:3]
    assert _picked(p.pos_idx, p.pos_mask, 1) == EASY_POS[1][:3]


def test_positives_use_available_pad_with_mask():
    p = _run(num_pos=4, num_neg=2, pos_strategy='hard', neg_strategy='H')
    assert p.pos_mask[0].all()
    assert p.pos_mask[1].tolist() == [True, True, True, False]
    assert _picked(p.pos_idx, p.pos_mask, 1) == HARD_POS[1]
    assert p.eligible.all()


def _check_random_draws(idx, mask, allowed, k):
    """No duplicates, only allowed slots, exactly k per row; returns the
    counts of each slot over all rows."""
    counts = Counter()
    for r in range(idx.shape[0]):
        row = _picked(idx, mask, r)
        assert len(row) == k
        assert len(set(row)) == k, f'duplicate in row {r}: {row}'
        assert set(row) <= allowed, row
        counts.update(row)
    return counts


def _assert_uniform(counts, allowed, rows, k, rel=0.2):
    expected = rows * k / len(allowed)
    assert set(counts) == allowed  # every allowed entry appears
    for slot in allowed:
        assert abs(counts[slot] - expected) < rel * expected, (slot, counts)


def test_random_positives_without_replacement_uniform():
    rows = 2000
    p = _run(repeat=rows // 2, num_pos=2, num_neg=2, pos_strategy='random',
             neg_strategy='H')
    for a in (0, 1):
        sel = slice(a, None, 2)
        counts = _check_random_draws(p.pos_idx[sel], p.pos_mask[sel], POS[a],
                                     2)
        _assert_uniform(counts, POS[a], rows // 2, 2)


def test_exclude_self_removes_own_slot_from_positives():
    sim, y, bl, bv = hand_bank()
    self_slots = torch.tensor([3, 4])  # anchor 0 is slot 3, anchor 1 slot 4
    for exclude in (False, True):
        p = _sampler(num_pos=4, num_neg=2, pos_strategy='hard',
                     neg_strategy='H', exclude_self=exclude)(
                         sim, y, bl, bv, self_slots=self_slots)
        got = [_picked(p.pos_idx, p.pos_mask, r) for r in (0, 1)]
        if exclude:
            assert got == [[1, 2, 0], [6, 5]]
        else:
            assert got == [HARD_POS[0], HARD_POS[1]]


# ------------------------------------------------------------ min_pos
def _rare_bank():
    """Anchor 0: class 3 (one valid positive, slot 10); anchor 1: class 5
    (no entry in the bank); anchor 2: class 0 (four positives)."""
    sim = SIM[[0, 1, 0]]
    return sim, torch.tensor([3, 5, 0]), BANK_LABELS, BANK_VALID


def test_min_pos_skip():
    p = _sampler(num_pos=2, num_neg=3, min_pos_policy='skip')(*_rare_bank())
    assert p.eligible.tolist() == [False, False, True]


def test_min_pos_use_available():
    p = _sampler(num_pos=2, num_neg=3, min_pos_policy='use_available')(
        *_rare_bank())
    assert p.eligible.tolist() == [True, False, True]
    assert p.pos_mask[0].tolist() == [True, False]
    assert p.pos_idx[0, 0] == 10
    assert not p.pos_mask[1].any()


def test_min_pos_sample_with_replacement_fills_with_valid_positives():
    torch.manual_seed(0)
    sim, y, bl, bv = _rare_bank()
    p = _sampler(num_pos=3, num_neg=3,
                 min_pos_policy='sample_with_replacement')(sim, y, bl, bv)
    assert p.eligible.tolist() == [True, False, True]
    assert p.pos_idx[0].tolist() == [10, 10, 10] and p.pos_mask[0].all()
    assert not p.pos_mask[1].any()
    assert _picked(p.pos_idx, p.pos_mask, 2) == HARD_POS[0][:3]
    # 5 positives wanted, 3 available (class 1): the real picks first, then
    # redraws among them only; all three get redrawn over many anchors
    rows = 600
    sim = SIM[[1]].repeat(rows, 1)
    p = _sampler(num_pos=5, num_neg=3, pos_strategy='hard',
                 min_pos_policy='sample_with_replacement')(
                     sim, torch.ones(rows, dtype=torch.long), bl, bv)
    assert p.pos_mask.all() and p.eligible.all()
    assert (p.pos_idx[:, :3] == torch.tensor(HARD_POS[1])).all()
    extra = Counter(p.pos_idx[:, 3:].flatten().tolist())
    assert set(extra) == POS[1]
    for slot in POS[1]:
        assert abs(extra[slot] - rows * 2 / 3) < 0.2 * rows * 2 / 3


def test_min_neg_skip():
    # anchor 0 has 9 valid negatives, anchor 1 has 10
    p = _run(num_pos=1, num_neg=10, neg_strategy='H', min_neg_policy='skip')
    assert p.eligible.tolist() == [False, True]
    p = _run(num_pos=1, num_neg=10, neg_strategy='H')
    assert p.eligible.tolist() == [True, True]
    assert p.neg_sets[0][1].sum(1).tolist() == [9, 10]


# ------------------------------------------------------------ negatives
@pytest.mark.parametrize('n', [1, 3, 5, 9])
def test_hard_negatives_are_the_highest_similarity_other_class(n):
    p = _run(num_pos=2, num_neg=n, neg_strategy='H')
    assert len(p.neg_sets) == 1
    idx, mask = p.neg_sets[0]
    for row in (0, 1):
        assert _picked(idx, mask, row) == H_ORDER[row][:n]


@pytest.mark.parametrize('n', [1, 3, 4, 5, 7, 9])
def test_class_aware_sequential_by_class_mean(n):
    """Classes ranked by the mean similarity of their VALID entries (Eq. 8),
    filled most similar class first, each class by similarity, the last
    class truncated."""
    p = _run(num_pos=2, num_neg=n, neg_strategy='CA')
    idx, mask = p.neg_sets[0]
    for row in (0, 1):
        assert _picked(idx, mask, row) == CA_ORDER[row][:n]


def test_class_aware_differs_from_hard():
    p_ca = _run(num_pos=2, num_neg=1, neg_strategy='CA')
    p_h = _run(num_pos=2, num_neg=1, neg_strategy='H')
    # anchor 0: the single most similar negative is slot 4 (class 1), but
    # class 2 has the higher mean similarity
    assert p_h.neg_sets[0][0][0, 0] == 4 and p_ca.neg_sets[0][0][0, 0] == 7


def test_class_aware_ignores_invalid_entries_in_class_mean():
    # with the stale slot 9 (sim .70) counted class 3 would rank 1st for
    # anchor 0 (mean .25 > .2167); valid only it ranks 3rd
    sim, y, bl, _ = hand_bank()
    bv = BANK_VALID.clone()
    bv[9] = True
    p = _sampler(num_pos=2, num_neg=2, neg_strategy='CA')(sim, y, bl, bv)
    assert _picked(*p.neg_sets[0], 0) == [9, 10]
    p = _run(num_pos=2, num_neg=2, neg_strategy='CA')
    assert _picked(*p.neg_sets[0], 0) == [7, 11]


def test_class_aware_random_within_class_keeps_class_ranking():
    rows = 900
    p = _run(repeat=rows // 2, num_pos=2, num_neg=5, neg_strategy='CA',
             ca_within_class='random')
    idx, mask = p.neg_sets[0]
    assert mask.all()
    last = Counter()
    for r in range(rows):
        a = r % 2
        row = idx[r].tolist()
        cls = [int(BANK_LABELS[m]) for m in row]
        # class blocks in the class order, whatever the order inside
        ranks = [CA_CLASSES[a].index(c) for c in cls]
        assert ranks == sorted(ranks), (a, row)
        if a == 0:
            assert set(row[:3]) == {7, 8, 11}
            assert set(row[3:]) <= {4, 5, 6} and len(set(row[3:])) == 2
            last.update(row[3:])
        else:
            assert set(row[:3]) == {7, 8, 11}
            assert set(row[3:]) == {14, 15}
    # the truncated class-1 block is a uniform pick of 2 of its 3 entries
    for slot in (4, 5, 6):
        assert abs(last[slot] - rows / 2 * 2 / 3) < 0.15 * rows / 3
    # and the within-class order is not always by similarity
    firsts = Counter(idx[0::2, 0].tolist())
    assert set(firsts) == {7, 8, 11}


def test_class_aware_topk_classes_draws_from_top_classes_only():
    rows = 1200
    p = _run(repeat=rows // 2, num_pos=2, num_neg=3, neg_strategy='CA',
             ca_mode='topk_classes', k_cls=2)
    idx, mask = p.neg_sets[0]
    allowed = [
        {m for m in NEG[a] if int(BANK_LABELS[m]) in CA_CLASSES[a][:2]}
        for a in (0, 1)
    ]
    assert allowed == [{4, 5, 6, 7, 8, 11}, {7, 8, 11, 14, 15}]
    for a in (0, 1):
        counts = _check_random_draws(idx[a::2], mask[a::2], allowed[a], 3)
        _assert_uniform(counts, allowed[a], rows // 2, 3)


def test_random_negatives_without_replacement_uniform():
    rows = 2000
    p = _run(repeat=rows // 2, num_pos=2, num_neg=4, neg_strategy='R')
    idx, mask = p.neg_sets[0]
    for a in (0, 1):
        counts = _check_random_draws(idx[a::2], mask[a::2], NEG[a], 4)
        _assert_uniform(counts, NEG[a], rows // 2, 4)


def test_random_negatives_depend_on_the_seed_only():
    a = _run(seed=3, num_pos=2, num_neg=4, neg_strategy='R')
    b = _run(seed=3, num_pos=2, num_neg=4, neg_strategy='R')
    c = _run(seed=4, repeat=20, num_pos=2, num_neg=4, neg_strategy='R')
    assert torch.equal(a.neg_sets[0][0], b.neg_sets[0][0])
    assert len({tuple(r) for r in c.neg_sets[0][0].tolist()}) > 2


# ------------------------------------------------------------ mixtures
@pytest.mark.parametrize('other,order', [('H', H_ORDER), ('CA', CA_ORDER)])
def test_rows_mixture_gives_random_then_other_set(other, order):
    rows = 400
    p = _run(repeat=rows // 2, num_pos=2, num_neg=4,
             neg_strategy=f'R+{other}', mix_mode='rows')
    assert len(p.neg_sets) == 2
    (ridx, rmask), (oidx, omask) = p.neg_sets
    assert ridx.shape == oidx.shape == (rows, 4)
    for a in (0, 1):
        for r in range(a, rows, 2):
            assert _picked(oidx, omask, r) == order[a][:4]
        counts = _check_random_draws(ridx[a::2], rmask[a::2], NEG[a], 4)
        assert set(counts) == NEG[a]


@pytest.mark.parametrize('other,order', [('H', H_ORDER), ('CA', CA_ORDER)])
@pytest.mark.parametrize('ratio', [0.3, 0.5, 0.0, 1.0])
def test_pool_mixture_one_set_of_num_neg(other, order, ratio):
    n = 7
    n_rand = int(round(ratio * n))
    rows = 300
    p = _run(repeat=rows // 2, num_pos=2, num_neg=n,
             neg_strategy=f'R+{other}', mix_mode='pool', rand_ratio=ratio)
    assert len(p.neg_sets) == 1
    idx, mask = p.neg_sets[0]
    assert idx.shape == (rows, n) and mask.all()
    rand_counts = Counter()
    for r in range(rows):
        a = r % 2
        row = idx[r].tolist()
        assert len(set(row)) == n and set(row) <= NEG[a]
        det, rand = row[:n - n_rand], row[n - n_rand:]
        assert det == order[a][:n - n_rand]
        assert not set(det) & set(rand)
        if a == 0:
            rand_counts.update(rand)
    if 0 < n_rand < n:  # the random part covers all that is left
        assert set(rand_counts) == NEG[0] - set(order[0][:n - n_rand])


# ------------------------------------------------------------ properties
STRATEGIES = [
    dict(neg_strategy='R'),
    dict(neg_strategy='H'),
    dict(neg_strategy='CA'),
    dict(neg_strategy='CA', ca_within_class='random'),
    dict(neg_strategy='CA', ca_mode='topk_classes', k_cls=2),
    dict(neg_strategy='R+H'),
    dict(neg_strategy='R+CA'),
    dict(neg_strategy='R+H', mix_mode='pool', rand_ratio=0.4),
    dict(neg_strategy='R+CA', mix_mode='pool', rand_ratio=0.4),
]


@pytest.mark.parametrize('cfg', STRATEGIES,
                         ids=lambda c: '-'.join(map(str, c.values())))
@pytest.mark.parametrize('pos_strategy', ['hard', 'easy', 'random'])
@pytest.mark.parametrize('policy',
                         ['skip', 'use_available', 'sample_with_replacement'])
def test_never_same_class_negative_nor_invalid_slot(cfg, pos_strategy,
                                                    policy):
    g = torch.Generator().manual_seed(
        zlib.crc32(f'{cfg}{pos_strategy}{policy}'.encode()))
    torch.manual_seed(1)
    sampler = _sampler(num_pos=4, num_neg=6, pos_strategy=pos_strategy,
                       min_pos_policy=policy, **cfg)
    for trial in range(15):
        Q, B, K = 30, 8, 4
        bl = torch.randint(0, K, (Q, ), generator=g)
        bv = torch.rand(Q, generator=g) < (0.2 + 0.06 * trial)
        bl[~bv & (torch.rand(Q, generator=g) < 0.5)] = -1  # never filled
        sim = torch.rand(B, Q, generator=g) * 2 - 1
        y = torch.randint(0, K + 1, (B, ), generator=g)  # K: absent class
        self_slots = torch.randint(0, Q, (B, ), generator=g)
        p = sampler(sim, y, bl, bv, self_slots=self_slots)
        same = bl[None] == y[:, None]
        n_pos = (same & bv).sum(1)
        n_neg = (~same & bv).sum(1)
        # positives: valid, same class
        pi, pm = p.pos_idx, p.pos_mask
        assert (bv[pi] | ~pm).all()
        assert ((bl[pi] == y[:, None]) | ~pm).all()
        if policy != 'sample_with_replacement':
            assert (pm.sum(1) == n_pos.clamp(max=4)).all()
        else:
            assert (pm.all(1) == (n_pos > 0)).all()
        for idx, mask in p.neg_sets:
            assert idx.shape[0] == B
            assert (bv[idx] | ~mask).all(), 'invalid slot selected'
            assert ((bl[idx] != y[:, None]) | ~mask).all(), 'same class'
            for r in range(B):  # no duplicate within a set
                row = _picked(idx, mask, r)
                assert len(set(row)) == len(row)
            if cfg.get('ca_mode') != 'topk_classes':
                assert (mask.sum(1) == n_neg.clamp(max=6)).all()
        need = 4 if policy == 'skip' else 1
        assert torch.equal(p.eligible, (n_pos >= need) & (n_neg >= 1))


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match='neg_strategy'):
        ContrastiveSampler(neg_strategy='X')
    with pytest.raises(ValueError, match='rand_ratio'):
        ContrastiveSampler(rand_ratio=1.5)
    with pytest.raises(ValueError, match='min_pos_policy'):
        ContrastiveSampler(min_pos_policy='with_replacement')


@pytest.mark.parametrize('neg_strategy', ['R+CA', 'H'])
def test_selection_is_a_constant_of_the_graph(neg_strategy):
    """The head samples on the similarities it later differentiates. The
    sampler must leave them intact for autograd (no in-place write: the
    version counter is unchanged), pick the same entries with and without
    a graph (it may not depend on grad mode), and let the gradient reach
    the similarities only through the gathered entries: backward of the sum
    of the picked entries is exactly how often each entry was picked."""
    raw = SIM.clone().requires_grad_(True)
    sim = raw * 1.  # a non-leaf, as the head's z @ bank.T
    version = sim._version
    y = torch.tensor([0, 1])
    sampler = _sampler(num_pos=3, num_neg=4, neg_strategy=neg_strategy)
    torch.manual_seed(0)
    p = sampler(sim, y, BANK_LABELS, BANK_VALID)
    assert sim._version == version and torch.is_grad_enabled()
    torch.testing.assert_close(sim, SIM, rtol=0, atol=0)
    torch.manual_seed(0)
    with torch.no_grad():
        q = sampler(SIM.clone(), y, BANK_LABELS, BANK_VALID)
    assert torch.equal(p.pos_idx, q.pos_idx)
    assert torch.equal(p.pos_mask, q.pos_mask)
    assert len(p.neg_sets) == len(q.neg_sets)
    for (pi, pm), (qi, qm) in zip(p.neg_sets, q.neg_sets):
        assert torch.equal(pi, qi) and torch.equal(pm, qm)

    picked = [(p.pos_idx, p.pos_mask)] + list(p.neg_sets)
    total = sum((sim.gather(1, idx) * mask).sum() for idx, mask in picked)
    total.backward()
    counts = torch.zeros_like(SIM)
    for idx, mask in picked:
        for row in range(2):
            for i, m in zip(idx[row].tolist(), mask[row].tolist()):
                counts[row, i] += float(m)
    assert counts.sum() > 0
    torch.testing.assert_close(raw.grad, counts, rtol=0, atol=0)


@pytest.mark.parametrize('strategy', ['CA', 'H', 'R+CA'])
def test_selection_is_float32_under_autocast(strategy):
    """Under AMP the similarities arrive in bf16/fp16. The selection must
    be the float32 selection on those same similarities: before the fix the
    class means and the CA keys (class rank + within-class term) were
    computed in bf16, which reordered entries inside a class and let a
    lower-ranked class overtake a higher one."""
    g = torch.Generator().manual_seed(0)
    B, Q, D, K = 16, 4000, 64, 99
    feats = F.normalize(torch.randn(Q, D, generator=g), dim=1)
    bl = torch.randint(0, K, (Q, ), generator=g)
    bv = torch.ones(Q, dtype=torch.bool)
    z = F.normalize(torch.randn(B, D, generator=g), dim=1)
    y = torch.randint(0, K, (B, ), generator=g)
    sampler = _sampler(num_pos=16, num_neg=100, neg_strategy=strategy)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        sim = z @ feats.t()
        assert sim.dtype == torch.bfloat16
        torch.manual_seed(0)
        amp = sampler(sim, y, bl, bv)
    torch.manual_seed(0)
    ref = sampler(sim.float(), y, bl, bv)
    assert torch.equal(amp.pos_idx, ref.pos_idx)
    for (a, am), (r, rm) in zip(amp.neg_sets, ref.neg_sets):
        assert torch.equal(a, r) and torch.equal(am, rm)
    half = sampler(sim.float().half(), y, bl, bv)  # fp16 input, no autocast
    assert torch.equal(half.neg_sets[-1][0], ref.neg_sets[-1][0])
