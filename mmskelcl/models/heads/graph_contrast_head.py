"""SkeletonGCL / CACL: contrast the learned topology through a memory bank."""
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .base_aux_head import BaseAuxHead, current_epoch


class GraphProjection(nn.Module):
    """``z = normalize(W g + b)``: SkeletonGCL's single Linear projection.

    Args:
        in_dim (int): Flattened graph size ``K_v * V * V``.
        out_dim (int): Embedding size (256).
        init_std (float): Normal init std of ``W`` (the code uses
            ``sqrt(2 / num_classes)``); bias 0.
        trainable (bool): Train the projection (paper) or keep it the fixed
            random projection the released code ends up with (its Linear
            lives outside the optimised model). Gradients reach the
            backbone either way.
    """

    def __init__(self, in_dim: int, out_dim: int, init_std: float,
                 trainable: bool = True) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        nn.init.normal_(self.fc.weight, 0, init_std)
        nn.init.zeros_(self.fc.bias)
        self.fc.requires_grad_(trainable)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        if g.shape[1] != self.fc.in_features:
            raise ValueError(
                f'GraphProjection expects {self.fc.in_features} features '
                f'(K_v * V * V) but the tap gives {g.shape[1]}; set in_dim')
        return F.normalize(self.fc(g), dim=1)


@MODELS.register_module()
class GraphContrastHead(BaseAuxHead):
    """Graph contrastive head of SkeletonGCL (ICLR'23) and CACL (ACCV'24).

    The backbone's ``topology`` tap (the last block's channel-wise refined
    graph, averaged over channels and persons, ``(B, K_v, V, V)``) is
    flattened, projected and L2-normalised; the embeddings enter a
    :class:`MemoryBank`; a :class:`ContrastiveSampler` picks positives and
    negatives from the bank; :class:`SampledInfoNCELoss` scores them.
    SkeletonGCL is ``neg_strategy='R+H'``, CACL ``'R+CA'``.

    Args:
        in_dim (int): ``K_v * V * V`` (867 FineGym, 1875 NTU, 1200 UCLA).
        num_classes (int): Classes (for the projection init).
        proj_dim (int): Embedding size.
        proj_trainable (bool): See :class:`GraphProjection`.
        proj_init_std (float, optional): Defaults to ``sqrt(2 / K)``.
        bank (dict): :class:`MemoryBank` config.
        sampler (dict): :class:`ContrastiveSampler` config.
        loss (dict): :class:`SampledInfoNCELoss` config.
        tap (str): Backbone tap to contrast.
        update_before_loss (bool): Write the batch into the bank before
            computing the loss (released code: the anchor and its
            batch-mates are in the bank) or after (MoCo-style).
        start_epoch (int): Epoch (0-based) from which the loss counts.
        loss_name (str): Name of the logged loss.
    """

    def __init__(self,
                 in_dim: int,
                 num_classes: int,
                 proj_dim: int = 256,
                 proj_trainable: bool = True,
                 proj_init_std: Optional[float] = None,
                 bank: Optional[dict] = None,
                 sampler: Optional[dict] = None,
                 loss: Optional[dict] = None,
                 tap: str = 'topology',
                 update_before_loss: bool = True,
                 start_epoch: int = 0,
                 loss_name: str = 'loss_contrast',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(required_taps=(tap, ), init_cfg=init_cfg)
        std = math.sqrt(2. / num_classes) if proj_init_std is None \
            else proj_init_std
        self.proj = GraphProjection(in_dim, proj_dim, std, proj_trainable)
        self.bank = MODELS.build(
            dict(type='MemoryBank', dim=proj_dim, **(bank or {})))
        self.sampler = MODELS.build(
            dict(type='ContrastiveSampler', **(sampler or {})))
        self.loss_fn = MODELS.build(
            dict(type='SampledInfoNCELoss', **(loss or {})))
        self.tap = tap
        self.update_before_loss = update_before_loss
        self.start_epoch = start_epoch
        self.loss_name = loss_name

    def embed(self, taps: Dict[str, torch.Tensor]) -> torch.Tensor:
        """The L2-normalised embeddings ``(B, proj_dim)``."""
        return self.proj(taps[self.tap].flatten(1))

    def loss(self, taps: Dict[str, torch.Tensor], logits: torch.Tensor,
             labels: torch.Tensor, sample_idx: torch.Tensor,
             **kwargs) -> Dict[str, torch.Tensor]:
        z = self.embed(taps)
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
        sim = z @ bank_feats.t()
        pairs = self.sampler(sim, labels, self.bank.labels, self.bank.valid,
                             self_slots=own_slots)
        value = self.loss_fn(sim, pairs)
        if not self.update_before_loss:
            self.bank.update(z.detach(), labels, sample_idx)
        if current_epoch() < self.start_epoch:
            value = value * 0
        return {
            self.loss_name: value,
            # logged, not optimised (no 'loss' in the name)
            f'{self.loss_name[5:]}_anchors':
            pairs.eligible.float().mean().detach(),
        }

