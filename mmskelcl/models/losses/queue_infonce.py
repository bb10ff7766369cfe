"""MoCo InfoNCE against a queue of keys, with an optional extra negative
per sample (SkeAttnCLR's L_Info, L_s and L_ns)."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class QueueInfoNCELoss(BaseModule):
    """``CE([q.k | q.queue | q.e] / tau, 0)`` averaged over the batch.

    ``q.k`` is the positive (row-wise), ``q.queue`` the ``K`` negatives of
    the queue and ``q.e`` an optional per-sample extra negative (SkeAttnCLR:
    the salient embedding for the non-salient one and vice versa), detached
    when ``detach_extra_negative`` (stop-gradient, as released). All
    embeddings are expected L2-normalised.

    Args:
        temperature (float): ``tau``. Defaults to 0.2.
        detach_extra_negative (bool): Stop the gradient through ``e``.
    """

    def __init__(self, temperature: float = 0.2,
                 detach_extra_negative: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.detach_extra_negative = detach_extra_negative

    def logits(self, q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor,
               extra_negative: Optional[torch.Tensor] = None
               ) -> torch.Tensor:
        """``(N, 1 + K [+ 1])`` logits, positive first.

        Args:
            q (Tensor): ``(N, D)`` queries. k (Tensor): ``(N, D)`` keys.
            queue (Tensor): ``(K, D)`` negatives (not written to).
            extra_negative (Tensor, optional): ``(N, D)``.
        """
        if q.shape != k.shape or queue.shape[-1] != q.shape[-1]:
            raise ValueError(f'q {tuple(q.shape)}, k {tuple(k.shape)} and '
                             f'queue {tuple(queue.shape)} must share D')
        parts = [(q * k).sum(1, keepdim=True), q @ queue.t()]
        if extra_negative is not None:
            if self.detach_extra_negative:
                extra_negative = extra_negative.detach()
            parts.append((q * extra_negative).sum(1, keepdim=True))
        return torch.cat(parts, dim=1) / self.temperature

    def forward(self, q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor,
                extra_negative: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Returns the mean loss and the top-1 accuracy (positive ranked
        first, no gradient)."""
        logits = self.logits(q, k, queue, extra_negative)
        target = logits.new_zeros(logits.shape[0], dtype=torch.long)
        acc = (logits.detach().argmax(1) == 0).float().mean()
        return F.cross_entropy(logits, target), acc
