"""Positive/negative selection from a memory bank, fully batched.

Strategies (CACL Table 3, SkeletonGCL): hard/easy/random positives; random
(R), hard (H) and class-aware (CA) negatives and the mixtures R+H and R+CA.
Every selection is a masked ``topk`` over a per-anchor key, so there is no
Python loop over samples.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

POS_STRATEGIES = ('hard', 'easy', 'random', 'random+hard')
NEG_STRATEGIES = ('R', 'H', 'CA', 'R+H', 'R+CA')
MIN_POS_POLICIES = ('skip', 'use_available', 'sample_with_replacement')
MIN_NEG_POLICIES = ('skip', 'use_available')
INF = float('inf')


@dataclass
class SampledPairs:
    """Indices into the bank for each anchor.

    Attributes:
        pos_idx (Tensor): ``(B, N_+)`` positive slots.
        pos_mask (Tensor): ``(B, N_+)`` which positive slots are real.
        neg_sets (list[tuple[Tensor, Tensor]]): One ``(idx, mask)`` pair of
            ``(B, N_c)`` tensors per negative set (two for the ``'rows'``
            mixtures).
        eligible (Tensor): ``(B,)`` anchors that contribute to the loss.
    """
    pos_idx: torch.Tensor
    pos_mask: torch.Tensor
    neg_sets: List[Tuple[torch.Tensor, torch.Tensor]]
    eligible: torch.Tensor


def masked_topk(key: torch.Tensor, mask: torch.Tensor, k: int,
                largest: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` of ``key`` among ``mask``-ed entries, per row.

    Returns the indices ``(B, k)`` and a mask of which picks were allowed
    (rows with fewer than ``k`` allowed entries pad with disallowed ones).
    """
    k = min(k, key.shape[1])
    fill = -INF if largest else INF
    idx = key.masked_fill(~mask, fill).topk(k, dim=1, largest=largest).indices
    return idx, mask.gather(1, idx)


@MODELS.register_module()
class ContrastiveSampler(BaseModule):
    """Select positives and negatives for each anchor from a bank.

    Args:
        num_pos (int): ``N_+`` positives per anchor (128).
        num_neg (int): ``N_c`` negatives per set (512).
        pos_strategy (str): ``'hard'`` (lowest similarity, SkeletonGCL
            code), ``'easy'`` (highest), ``'random'`` or ``'random+hard'``
            (the ``N_+`` hardest plus ``N_+`` drawn uniformly from the
            remaining positives, each crossed with every negative set:
            CSRE Table 6's "R+H" positives).
        neg_strategy (str): ``'R'``, ``'H'``, ``'CA'``, ``'R+H'`` or
            ``'R+CA'`` (CACL's method).
        mix_mode (str): For ``R+H``/``R+CA``: ``'rows'`` (two negative sets,
            each with every positive: SkeletonGCL's R+H) or ``'pool'`` (one
            set of ``N_c``: ``rand_ratio`` random, the rest H/CA).
        rand_ratio (float): Random share of the pooled set.
        ca_mode (str): ``'sequential'`` (classes by mean similarity, most
            similar first, filled until ``N_c``; CACL Sec. 3.3) or
            ``'topk_classes'`` (``N_c`` uniformly from the ``k_cls`` most
            similar classes).
        ca_within_class (str): Order inside a class in sequential CA:
            ``'similarity'`` (most similar first) or ``'random'``.
        k_cls (int): Classes used by ``'topk_classes'``.
        min_pos_policy (str): Anchors with fewer than ``N_+`` positives in
            the bank: ``'skip'`` them (released code; on long-tailed FineGym
            rare classes never act as anchors), ``'use_available'`` (all they
            have; default) or ``'sample_with_replacement'`` (fill ``N_+`` by
            drawing the available ones again).
        min_neg_policy (str): Anchors with fewer than ``N_c`` negatives:
            ``'skip'`` (code) or ``'use_available'`` (default).
        exclude_self (bool): Exclude the anchor's own bank entry from its
            positives (the released code keeps it, similarity 1).
    """

    def __init__(self,
                 num_pos: int = 128,
                 num_neg: int = 512,
                 pos_strategy: str = 'hard',
                 neg_strategy: str = 'R+CA',
                 mix_mode: str = 'rows',
                 rand_ratio: float = 0.5,
                 ca_mode: str = 'sequential',
                 ca_within_class: str = 'similarity',
                 k_cls: int = 2,
                 min_pos_policy: str = 'use_available',
                 min_neg_policy: str = 'use_available',
                 exclude_self: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        _check('pos_strategy', pos_strategy, POS_STRATEGIES)
        _check('neg_strategy', neg_strategy, NEG_STRATEGIES)
        _check('mix_mode', mix_mode, ('rows', 'pool'))
        _check('ca_mode', ca_mode, ('sequential', 'topk_classes'))
        _check('ca_within_class', ca_within_class, ('similarity', 'random'))
        _check('min_pos_policy', min_pos_policy, MIN_POS_POLICIES)
        _check('min_neg_policy', min_neg_policy, MIN_NEG_POLICIES)
        if not 0 <= rand_ratio <= 1:
            raise ValueError(f'rand_ratio must be in [0, 1], got {rand_ratio}')
        self.num_pos, self.num_neg = num_pos, num_neg
        self.pos_strategy, self.neg_strategy = pos_strategy, neg_strategy
        self.mix_mode, self.rand_ratio = mix_mode, rand_ratio
        self.ca_mode, self.ca_within_class = ca_mode, ca_within_class
        self.k_cls = k_cls
        self.min_pos_policy = min_pos_policy
        self.min_neg_policy = min_neg_policy
        self.exclude_self = exclude_self

    @torch.no_grad()
    def forward(self,
                sim: torch.Tensor,
                labels: torch.Tensor,
                bank_labels: torch.Tensor,
                bank_valid: torch.Tensor,
                self_slots: Optional[torch.Tensor] = None) -> SampledPairs:
        """Select pairs.

        Args:
            sim (Tensor): ``(B, Q)`` anchor-to-bank cosine similarities.
            labels (Tensor): ``(B,)`` anchor labels.
            bank_labels (Tensor): ``(Q,)`` labels of the bank entries.
            bank_valid (Tensor): ``(Q,)`` filled slots.
            self_slots (Tensor, optional): ``(B,)`` each anchor's own slot
                (excluded from its positives when ``exclude_self``).
        """
        # select in float32 outside autocast: under AMP ``sim`` arrives in
        # fp16/bf16 and the class means (a matmul) and the CA keys
        # ``class rank + within-class term`` lose the within-class order
        # and can even swap classes
        sim = sim.detach().float()
        same = bank_labels[None] == labels[:, None]
        pos_ok = bank_valid[None] & same
        neg_ok = bank_valid[None] & ~same
        if self.exclude_self and self_slots is not None:
            pos_ok[torch.arange(len(labels)), self_slots] = False
        with torch.autocast(device_type=sim.device.type, enabled=False):
            pos_idx, pos_mask = self._positives(sim, pos_ok)
            neg_sets = self._negatives(sim, neg_ok, labels, bank_labels,
                                       bank_valid)
        n_pos, n_neg = pos_ok.sum(1), neg_ok.sum(1)
        need_pos, need_neg = self.requirement(sim.shape[1])
        eligible = (n_pos >= need_pos) & (n_neg >= need_neg)
        return SampledPairs(pos_idx, pos_mask, neg_sets, eligible)

    def requirement(self, bank_size: int) -> Tuple[int, int]:
        """Positives and negatives an anchor needs in a bank of
        ``bank_size`` slots to contribute (``N_+`` / ``N_c`` under
        ``'skip'``, 1 otherwise; never more than the bank holds)."""
        need_pos = self.num_pos if self.min_pos_policy == 'skip' else 1
        need_neg = self.num_neg if self.min_neg_policy == 'skip' else 1
        return min(need_pos, bank_size), min(need_neg, bank_size)

    def starved_classes(self, counts: Sequence[int],
                        bank_size: Optional[int] = None) -> Dict[int, str]:
        """Classes whose anchors can never contribute, with the reason.

        Args:
            counts (Sequence[int]): Bank entries per class (index ``c`` =
                class ``c``); a class with no entry is not listed.
            bank_size (int, optional): Slots of the bank (their sum when
                None).

        Returns:
            dict[int, str]: ``{class: '124 < 128 positives'}`` for every
            class with entries but too few positives (its own entry
            included unless ``exclude_self``) or negatives (the other
            classes' entries).
        """
        counts = [int(c) for c in counts]
        total = sum(counts)
        need_pos, need_neg = self.requirement(
            total if bank_size is None else bank_size)
        out = {}
        for cls, n in enumerate(counts):
            pos, neg = n - int(self.exclude_self), total - n
            if n == 0:
                continue
            if pos < need_pos:
                out[cls] = f'{pos} < {need_pos} positives'
            elif neg < need_neg:
                out[cls] = f'{neg} < {need_neg} negatives'
        return out

    def _positives(self, sim, pos_ok):
        if self.pos_strategy == 'random+hard':
            idx_h, mask_h = masked_topk(sim, pos_ok, self.num_pos, False)
            rest = pos_ok.clone()
            rest.scatter_(1, idx_h, False)
            idx_r, mask_r = masked_topk(torch.rand_like(sim), rest,
                                        self.num_pos, True)
            idx, mask = torch.cat([idx_h, idx_r], 1), torch.cat(
                [mask_h, mask_r], 1)
            return self._refill(idx, mask)
        if self.pos_strategy == 'random':
            key, largest = torch.rand_like(sim), True
        else:
            key, largest = sim, self.pos_strategy == 'easy'
        idx, mask = masked_topk(key, pos_ok, self.num_pos, largest)
        return self._refill(idx, mask)

    def _refill(self, idx, mask):
        if self.min_pos_policy == 'sample_with_replacement':
            count = mask.sum(1, keepdim=True)
            draw = (torch.rand(idx.shape, device=idx.device) *
                    count.clamp(min=1)).long()
            refill = idx.gather(1, draw)  # available picks come first
            idx = torch.where(mask, idx, refill)
            mask = (count > 0).expand_as(mask)
        return idx, mask

    def _negatives(self, sim, neg_ok, labels, bank_labels, bank_valid):
        strategy, n = self.neg_strategy, self.num_neg
        if '+' not in strategy:
            return [self._select(strategy, sim, neg_ok, labels, bank_labels,
                                 bank_valid, n)]
        other = strategy.split('+')[1]
        if self.mix_mode == 'rows':
            return [
                self._select('R', sim, neg_ok, labels, bank_labels,
                             bank_valid, n),
                self._select(other, sim, neg_ok, labels, bank_labels,
                             bank_valid, n)
            ]
        n_rand = int(round(self.rand_ratio * n))
        idx_o, mask_o = self._select(other, sim, neg_ok, labels, bank_labels,
                                     bank_valid, n - n_rand)
        rest = neg_ok.clone()
        rest.scatter_(1, idx_o, False)
        idx_r, mask_r = self._select('R', sim, rest, labels, bank_labels,
                                     bank_valid, n_rand)
        return [(torch.cat([idx_o, idx_r], 1), torch.cat([mask_o, mask_r],
                                                          1))]

    def _select(self, strategy, sim, neg_ok, labels, bank_labels, bank_valid,
                n):
        if n == 0:
            empty = sim.new_zeros((sim.shape[0], 0), dtype=torch.long)
            return empty, empty.bool()
        if strategy == 'R':  # uniform without replacement
            return masked_topk(torch.rand_like(sim), neg_ok, n, True)
        if strategy == 'H':
            return masked_topk(sim, neg_ok, n, True)
        return self._class_aware(sim, neg_ok, labels, bank_labels,
                                 bank_valid, n)

    def _class_aware(self, sim, neg_ok, labels, bank_labels, bank_valid, n):
        """CA: rank classes by the mean similarity of their bank entries to
        the anchor (Eq. 8), then take entries class by class."""
        num_classes = int(max(bank_labels.max(), labels.max())) + 1
        cls = bank_labels.clamp(min=0)
        count = torch.bincount(cls[bank_valid], minlength=num_classes)
        h = sim.new_zeros(sim.shape[0], num_classes).index_add_(
            1, cls, sim * bank_valid)  # per-class sums of valid entries
        h = h / count.clamp(min=1)
        h = h.masked_fill(count[None] == 0, -INF)
        h.scatter_(1, labels[:, None], -INF)  # never the anchor's class
        rank = h.argsort(1, descending=True).argsort(1)  # 0 = most similar
        entry_rank = rank.gather(
            1, bank_labels.clamp(min=0).expand(sim.shape[0], -1)).to(
                sim.dtype)
        if self.ca_mode == 'topk_classes':
            key = torch.rand_like(sim).masked_fill(
                entry_rank >= self.k_cls, INF)
            return masked_topk(key, neg_ok & (entry_rank < self.k_cls), n,
                               False)
        if self.ca_within_class == 'similarity':
            within = (1 - sim) / 2.0001  # most similar first, in [0, 1)
        else:
            within = torch.rand_like(sim) * 0.999
        return masked_topk(entry_rank + within, neg_ok, n, False)


def _check(name, value, allowed):
    if value not in allowed:
        raise ValueError(f'{name} must be one of {allowed}, got {value!r}')
