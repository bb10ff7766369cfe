"""One bank-contrast unit: bank write -> similarity -> sampler -> loss.

SkeletonGCL / CACL contrast the graph embedding through one unit; CSRE
contrasts a spatial and a temporal embedding through two (three with its
global branch). Each unit owns its :class:`MemoryBank`, sampler and loss;
each sub-part is built with ``setdefault('type', ...)``, so a config swaps
any of them for another registered class.
"""
from typing import Dict, Optional

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..heads.base_aux_head import current_epoch


def _build(cfg: Optional[dict], default_type: str, **defaults):
    """Build ``cfg`` with a default ``type`` and default arguments."""
    cfg = dict(cfg or {})
    cfg.setdefault('type', default_type)
    for key, value in defaults.items():
        cfg.setdefault(key, value)
    return MODELS.build(cfg)


@MODELS.register_module()
class BankContrast(BaseModule):
    """Contrast anchors against a memory bank of past embeddings.

    ``forward(z, labels, sample_idx)``:

    1. if ``update_before_loss`` (SkeletonGCL/CACL released code: the
       anchor and its batch-mates are in the bank), write the batch first;
    2. ``sim = z @ bank.feats.T`` (one matmul for selection and loss);
    3. ``pairs = sampler(sim, labels, bank.labels, bank.valid, own slots)``;
    4. ``loss = loss_fn(sim, pairs)``;
    5. otherwise (MoCo-style) write the batch after the loss;
    6. before ``start_epoch`` the loss is multiplied by zero (the bank still
       fills, as released).

    In training mode it also sums, per epoch, the anchors seen, the anchors
    with enough pairs and the loss (:meth:`pop_epoch_stats`);
    :class:`~mmskelcl.engine.BankContrastCheckHook` logs them after every
    epoch and stops a run whose unit used no anchor in a whole epoch.

    Args:
        dim (int): Embedding size (the bank's ``dim`` unless given there).
        bank (dict, optional): Bank config; type ``MemoryBank`` by default.
        sampler (dict, optional): Sampler config; ``ContrastiveSampler``.
        loss (dict, optional): Loss config; ``SampledInfoNCELoss``.
        update_before_loss (bool): See step 1 / 5.
        start_epoch (int): 0-based epoch from which the loss counts.
        loss_name (str): Name of the returned loss (starts with ``loss``);
            the anchor statistic is logged as ``<name without loss_>
            _anchors`` (the fraction of anchors with enough pairs).
        fp32_similarity (bool): Compute the anchor-to-bank similarity in
            float32 outside autocast (default). False keeps autocast's
            dtype (fp16/bf16 under AMP, as the released code's plain
            matmul under AMP); the sampler's selection itself always runs
            in float32.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 dim: int,
                 bank: Optional[dict] = None,
                 sampler: Optional[dict] = None,
                 loss: Optional[dict] = None,
                 update_before_loss: bool = True,
                 start_epoch: int = 0,
                 loss_name: str = 'loss_contrast',
                 fp32_similarity: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not loss_name.startswith('loss'):
            raise ValueError(f'loss_name must start with "loss" (mmengine '
                             f'optimises only those), got {loss_name!r}')
        self.bank = _build(bank, 'MemoryBank', dim=dim)
        self.sampler = _build(sampler, 'ContrastiveSampler')
        self.loss_fn = _build(loss, 'SampledInfoNCELoss')
        self.update_before_loss = update_before_loss
        self.start_epoch = start_epoch
        self.loss_name = loss_name
        self.fp32_similarity = fp32_similarity
        self._reset_epoch_stats()

    def _reset_epoch_stats(self) -> None:
        # python counts and a device tensor: no host sync per step
        self._anchors, self._steps = 0, 0
        self._sums: Optional[torch.Tensor] = None  # (used, loss sum)

    def pop_epoch_stats(self) -> torch.Tensor:
        """This epoch's ``(anchors, anchors used, loss sum, steps)`` as a
        float64 tensor on the bank's device (for an all-reduce), and a
        fresh count for the next epoch."""
        out = torch.zeros(4, dtype=torch.float64,
                          device=self.bank.feats.device)
        out[0], out[3] = self._anchors, self._steps
        if self._sums is not None:
            out[1:3] = self._sums.to(out)
        self._reset_epoch_stats()
        return out

    def forward(self, z: torch.Tensor, labels: torch.Tensor,
                sample_idx: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        """Loss and anchor statistic of a batch.

        Args:
            z (Tensor): ``(B, dim)`` L2-normalised anchor embeddings (with
                gradient).
            labels (Tensor): ``(B,)`` anchor labels.
            sample_idx (Tensor, optional): ``(B,)`` dataset indices (needed
                by an ``'index'`` bank).

        Returns:
            dict[str, Tensor]: ``{loss_name: loss, <stat>_anchors: frac}``.
        """
        own_slots = sample_idx if self.bank.mode == 'index' else None
        if self.update_before_loss:
            own_slots = self.bank.update(z.detach(), labels, sample_idx)
        bank_feats = self.bank.feats
        if not self.update_before_loss:
            # the update below writes into the buffer in place, while
            # autograd still needs it for d(sim)/dz: use a copy
            bank_feats = bank_feats.clone()
        # one matmul serves the selection (detached inside the sampler) and
        # the loss (gathers the selected entries, gradient to the anchors)
        # in float32 outside autocast: a bf16/fp16 similarity keeps ~3
        # digits, too coarse for the selection and for InfoNCE on s / tau
        if self.fp32_similarity:
            dtype = torch.promote_types(z.dtype, torch.float32)
            with torch.autocast(device_type=z.device.type, enabled=False):
                sim = z.to(dtype) @ bank_feats.to(dtype).t()
        else:
            sim = z @ bank_feats.t()
        pairs = self.sampler(sim, labels, self.bank.labels, self.bank.valid,
                             self_slots=own_slots)
        value = self.loss_fn(sim, pairs)
        if not self.update_before_loss:
            self.bank.update(z.detach(), labels, sample_idx)
        if current_epoch() < self.start_epoch:
            value = value * 0
        if self.training:
            step = torch.stack([pairs.eligible.sum(), value.detach()]).to(
                torch.float64)
            self._sums = step if self._sums is None else self._sums + step
            self._anchors += pairs.eligible.numel()
            self._steps += 1
        return {
            self.loss_name: value,
            # logged, not optimised (no 'loss' in the name)
            f'{self.loss_name[5:]}_anchors':
            pairs.eligible.float().mean().detach(),
        }
