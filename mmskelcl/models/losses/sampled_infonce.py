"""InfoNCE over sampled (anchor, positive, negative-set) rows."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..memory.sampler import SampledPairs


@MODELS.register_module()
class SampledInfoNCELoss(BaseModule):
    """Mean InfoNCE over rows ``[s_ip | s_in for n in N_s(i)] / tau``.

    One row per eligible anchor ``i``, real positive ``p`` and negative set
    ``s``, target the positive (CACL Eq. 5 with its typos corrected;
    SkeletonGCL's ``CrossEntropy(logits / T, 0)``). All rows of an anchor
    share the same negatives, so the row loss is computed as
    ``softplus(logsumexp_n(s_in / tau) - s_ip / tau)`` without building the
    ``(B, N_+, 1 + N_c)`` logit tensor: exact, and ``N_+`` times cheaper.

    Args:
        temperature (float): ``tau`` (0.8 in CACL and SkeletonGCL).
        loss_weight (float): Weight of the loss (1 in CACL).
    """

    def __init__(self,
                 temperature: float = 0.8,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, sim: torch.Tensor, pairs: SampledPairs) -> torch.Tensor:
        """Args:
            sim (Tensor): ``(B, Q)`` anchor-to-bank similarities (with
                gradient through the anchors).
            pairs (SampledPairs): The sampler's selection.

        Returns:
            Tensor: Scalar loss (0, still attached to the graph, when no row
            is valid, e.g. while the bank fills).
        """
        # logsumexp over s / tau in at least float32 (AMP gives bf16/fp16)
        sim = sim.to(torch.promote_types(sim.dtype, torch.float32))
        with torch.autocast(device_type=sim.device.type, enabled=False):
            return self._rows_loss(
                sim.gather(1, pairs.pos_idx),
                [sim.gather(1, idx) for idx, _ in pairs.neg_sets], pairs)

    def _rows_loss(self, pos: torch.Tensor, negs: list,
                   pairs: SampledPairs) -> torch.Tensor:
        tau = self.temperature
        pos = pos / tau  # (B, P)
        rows_valid = pairs.pos_mask & pairs.eligible[:, None]
        total = pos.new_zeros(())
        for neg, (_, neg_mask) in zip(negs, pairs.neg_sets):
            neg = (neg / tau).masked_fill(~neg_mask, float('-inf'))
            lse = torch.logsumexp(neg, dim=1, keepdim=True)  # (B, 1)
            rows = F.softplus(lse - pos)  # -log softmax of the positive
            rows = torch.where(rows_valid, rows, torch.zeros_like(rows))
            total = total + rows.sum()
        count = rows_valid.sum() * len(pairs.neg_sets)  # no host sync
        return self.loss_weight * total / count.clamp(min=1)
