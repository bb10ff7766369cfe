"""Per-sample reference of the bank contrastive loss (SkeletonGCL / CACL).

Written like SkeletonGCL's released ``model/loss.py::InfoNCEGraph.forward``:
a Python loop over anchors; for each anchor it masks and sorts the anchor's
similarities to the bank (torch ops on one row at a time, as the released
code), picks positives and negatives by the strategy, builds one row
``[s_ip | s_in for n in N_s(i)]`` per (positive, negative set) and averages
``CrossEntropy(rows / T, target 0)`` over every row of every eligible anchor.

It is deliberately obvious: the tests compare the vectorised
``ContrastiveSampler`` + ``SampledInfoNCELoss`` against it, and
``tools/benchmark.py --bank-loss`` imports :func:`reference_bank_loss` as
the per-sample ("released-code" style) baseline, so it runs on any device
at the speed of the released loop (the class-aware part adds one
``index_add`` per anchor for the class means).

Strategies (CACL spec sections 2.5-2.7):

* positives: ``'hard'`` (the ``num_pos`` lowest-similarity same-class
  entries), ``'easy'`` (highest) or ``'random'`` (``random.sample``);
* negatives: ``'H'`` (highest-similarity other-class entries), ``'R'``
  (uniform without replacement), ``'CA'`` (classes ranked by the mean
  similarity of their valid entries, Eq. 8, filled most-similar class first,
  each class by descending similarity), ``'R+H'`` / ``'R+CA'`` (``'rows'``:
  two negative sets; ``'pool'``: one set, ``round(rand_ratio * num_neg)``
  random entries plus the rest H/CA).

The random parts can be fixed by passing ``rand_neg`` (the random negative
slots per anchor), so the deterministic strategies and the assembly of the
random ones can be compared exactly with the vectorised code.
"""
import random
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = ['reference_bank_loss', 'reference_select']


def _class_aware(s, cands, cand_labels, n):
    """CA order of one anchor's candidates ``cands`` (slots), first ``n``.

    ``s`` is the anchor's similarity row, ``cand_labels`` the candidates'
    labels (every valid other-class entry, so the class means are Eq. 8).
    """
    vals = s[cands]
    num = int(cand_labels.max()) + 1
    sums = torch.zeros(num, dtype=s.dtype, device=s.device).index_add_(
        0, cand_labels, vals)
    counts = torch.bincount(cand_labels, minlength=num)
    present = (counts > 0).nonzero().flatten()
    h = sums[present] / counts[present]  # Eq. (8), classes present only
    picked: List[torch.Tensor] = []
    total = 0
    for c in present[h.argsort(descending=True)]:  # most similar first
        members = cands[cand_labels == c]
        members = members[s[members].argsort(descending=True)]
        picked.append(members[:n - total])
        total += len(picked[-1])
        if total >= n:
            break
    return torch.cat(picked) if picked else cands[:0]


def reference_select(s: torch.Tensor, label: int, bank_labels: torch.Tensor,
                     bank_valid: torch.Tensor, num_pos: int, num_neg: int,
                     pos_strategy: str, neg_strategy: str,
                     min_pos_policy: str = 'skip',
                     min_neg_policy: str = 'skip', mix_mode: str = 'rows',
                     rand_ratio: float = 0.5,
                     self_slot: Optional[int] = None,
                     rand_neg: Optional[Sequence[int]] = None,
                     rng: Optional[random.Random] = None):
    """Positive slots and negative sets (slot tensors) of ONE anchor, or
    ``None`` when the anchor is skipped. ``s``: its detached similarities
    to every slot."""
    rng = rng or random.Random(0)
    same = bank_labels == label
    pos_mask = bank_valid & same
    if self_slot is not None:
        pos_mask[self_slot] = False
    pos_c = pos_mask.nonzero().flatten()
    neg_c = (bank_valid & ~same).nonzero().flatten()
    need_pos = num_pos if min_pos_policy == 'skip' else 1
    need_neg = num_neg if min_neg_policy == 'skip' else 1
    if len(pos_c) < need_pos or len(neg_c) < need_neg:
        return None

    if pos_strategy == 'hard':  # lowest similarity first
        pos = pos_c[s[pos_c].argsort()][:num_pos]
    elif pos_strategy == 'easy':
        pos = pos_c[s[pos_c].argsort(descending=True)][:num_pos]
    elif pos_strategy == 'random':
        pos = pos_c[rng.sample(range(len(pos_c)), min(num_pos, len(pos_c)))]
    else:
        raise ValueError(pos_strategy)
    if min_pos_policy == 'sample_with_replacement' and len(pos) < num_pos:
        extra = [rng.randrange(len(pos)) for _ in range(num_pos - len(pos))]
        pos = torch.cat([pos, pos[extra]])

    def pick(strategy, n, allowed):
        if n == 0:
            return allowed[:0]
        if strategy == 'H':  # highest similarity first
            return allowed[s[allowed].argsort(descending=True)][:n]
        if strategy == 'CA':
            return _class_aware(s, allowed, bank_labels[allowed], n)
        if strategy == 'R':
            if rand_neg is not None:
                chosen = torch.as_tensor(list(rand_neg), dtype=torch.long,
                                         device=s.device)
                assert len(chosen.unique()) == len(chosen), 'duplicates'
                assert torch.isin(chosen, allowed).all(), 'not allowed'
                return chosen
            return allowed[rng.sample(range(len(allowed)),
                                      min(n, len(allowed)))]
        raise ValueError(strategy)

    if '+' not in neg_strategy:
        sets = [pick(neg_strategy, num_neg, neg_c)]
    else:
        other = neg_strategy.split('+')[1]
        if mix_mode == 'rows':
            sets = [pick('R', num_neg, neg_c), pick(other, num_neg, neg_c)]
        else:
            n_rand = int(round(rand_ratio * num_neg))
            first = pick(other, num_neg - n_rand, neg_c)
            rest = neg_c[~torch.isin(neg_c, first)]
            sets = [torch.cat([first, pick('R', n_rand, rest)])]
    return pos, sets


def reference_bank_loss(z: torch.Tensor,
                        bank_feats: torch.Tensor,
                        bank_labels: torch.Tensor,
                        bank_valid: torch.Tensor,
                        labels: torch.Tensor,
                        num_pos: int,
                        num_neg: int,
                        pos_strategy: str,
                        neg_strategy: str,
                        temperature: float,
                        min_pos_policy: str = 'skip',
                        *,
                        min_neg_policy: str = 'skip',
                        mix_mode: str = 'rows',
                        rand_ratio: float = 0.5,
                        self_slots: Optional[Sequence[int]] = None,
                        rand_neg: Optional[Sequence[Sequence[int]]] = None,
                        seed: int = 0) -> torch.Tensor:
    """SkeletonGCL-style per-sample InfoNCE over a memory bank.

    Args:
        z (Tensor): ``(B, D)`` anchor embeddings (L2-normalised, with grad).
        bank_feats (Tensor): ``(Q, D)`` bank entries (used detached).
        bank_labels (Tensor): ``(Q,)`` their labels.
        bank_valid (Tensor): ``(Q,)`` filled slots.
        labels (Tensor): ``(B,)`` anchor labels.
        num_pos, num_neg (int): ``N_+`` and ``N_c``.
        pos_strategy (str): ``'hard'``, ``'easy'`` or ``'random'``.
        neg_strategy (str): ``'R'``, ``'H'``, ``'CA'``, ``'R+H'``, ``'R+CA'``.
        temperature (float): ``T``.
        min_pos_policy (str): ``'skip'`` (code), ``'use_available'`` or
            ``'sample_with_replacement'``.
        min_neg_policy (str): ``'skip'`` (code: fewer than ``num_neg``
            negatives skips the anchor) or ``'use_available'``.
        mix_mode (str), rand_ratio (float): Mixtures, as the sampler.
        self_slots (Sequence[int], optional): Each anchor's own slot,
            excluded from its positives (``exclude_self``).
        rand_neg (Sequence[Sequence[int]], optional): Random negative slots
            per anchor (fixes the R part); otherwise ``random.sample``.
        seed (int): Seed of the Python RNG for the random parts.

    Returns:
        Tensor: Scalar mean over all rows; ``0 * z.sum()`` (attached to the
        graph) when no anchor is eligible.
    """
    rng = random.Random(seed)
    feats = bank_feats.detach()
    bank_labels = bank_labels.to(z.device).long()
    bank_valid = bank_valid.to(z.device).bool()
    sims = z @ feats.t()  # (B, Q), gradient through the anchors
    total, rows = z.new_zeros(()), 0
    for i in range(z.shape[0]):
        s = sims[i]
        picked = reference_select(
            s.detach(), int(labels[i]), bank_labels, bank_valid, num_pos,
            num_neg, pos_strategy, neg_strategy, min_pos_policy,
            min_neg_policy, mix_mode, rand_ratio,
            None if self_slots is None else int(self_slots[i]),
            None if rand_neg is None else rand_neg[i], rng)
        if picked is None:
            continue
        pos, sets = picked
        for negs in sets:
            logits = torch.cat([
                s[pos].view(-1, 1), s[negs].view(1, -1).expand(len(pos), -1)
            ], 1) / temperature  # (N_+, 1 + N_c), target column 0
            target = torch.zeros(len(pos), dtype=torch.long, device=z.device)
            total = total + F.cross_entropy(logits, target, reduction='sum')
            rows += len(pos)
    if rows == 0:
        return z.sum() * 0
    return total / rows
