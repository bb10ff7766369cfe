"""SkeletonGCL / CACL: contrast the learned topology through a memory bank."""
import math
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from ..utils.taps import TapInfo
from .base_aux_head import BaseAuxHead


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
                f'(K_v * V * V) but the tap gives {g.shape[1]}: the head was '
                'sized for another backbone or layout (drop a hand-set in_dim '
                'and let the recognizer size it)')
        return F.normalize(self.fc(g), dim=1)


@MODELS.register_module()
class GraphContrastHead(BaseAuxHead):
    """Graph contrastive head of SkeletonGCL (ICLR'23) and CACL (ACCV'24).

    The backbone's ``topology`` tap (the last block's channel-wise refined
    graph, averaged over channels and persons, ``(B, K_v, V, V)``) is
    flattened, projected and L2-normalised; the embeddings go through one
    :class:`~mmskelcl.models.memory.BankContrast` (memory bank ->
    :class:`ContrastiveSampler` -> :class:`SampledInfoNCELoss`).
    SkeletonGCL is ``neg_strategy='R+H'``, CACL ``'R+CA'``.

    Args:
        num_classes (int, optional): Classes (for the projection init);
            given by the recognizer (the classifier's).
        in_dim (int, optional): Flattened tap size; by default from the
            backbone's published tap (``K_v * V * V``: 867 FineGym, 1875
            NTU, 1200 NW-UCLA).
        proj_dim (int): Embedding size.
        proj_trainable (bool): See :class:`GraphProjection`.
        proj_init_std (float, optional): Defaults to ``sqrt(2 / K)``.
        bank (dict): Bank config (``type`` defaults to ``MemoryBank``).
        sampler (dict): Sampler config (``ContrastiveSampler``).
        loss (dict): Loss config (``SampledInfoNCELoss``).
        tap (str): Backbone tap to contrast.
        update_before_loss (bool): Write the batch into the bank before
            computing the loss (released code: the anchor and its
            batch-mates are in the bank) or after (MoCo-style).
        start_epoch (int): Epoch (0-based) from which the loss counts.
        loss_name (str): Name of the logged loss.
        fp32_similarity (bool): Bank similarities in float32 under AMP
            (default; False: autocast's dtype), see
            :class:`~mmskelcl.models.memory.BankContrast`.
        tap_info (dict, optional): The backbone's taps (from the
            recognizer).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 in_dim: Optional[int] = None,
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
                 fp32_similarity: bool = True,
                 tap_info: Optional[Mapping[str, TapInfo]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(required_taps=(tap, ), tap_info=tap_info,
                         init_cfg=init_cfg)
        if in_dim is None:
            info = self.tap(tap, 'the flattened size (in_dim)')
            in_dim = math.prod(info.shape(1, 1)[1:])  # all but N (M = 1)
        if proj_init_std is None:
            if num_classes is None:
                raise ValueError('GraphContrastHead needs num_classes (or '
                                 'proj_init_std) for its projection init')
            proj_init_std = math.sqrt(2. / num_classes)
        self.proj = GraphProjection(in_dim, proj_dim, proj_init_std,
                                    proj_trainable)
        self.contrast = MODELS.build(
            dict(type='BankContrast', dim=proj_dim, bank=bank,
                 sampler=sampler, loss=loss,
                 update_before_loss=update_before_loss,
                 start_epoch=start_epoch, loss_name=loss_name,
                 fp32_similarity=fp32_similarity))
        self.tap_name = tap

    @property
    def bank(self) -> nn.Module:
        """The memory bank (of :attr:`contrast`)."""
        return self.contrast.bank

    @property
    def sampler(self) -> nn.Module:
        return self.contrast.sampler

    @property
    def loss_fn(self) -> nn.Module:
        return self.contrast.loss_fn

    @property
    def needs_sample_idx(self) -> bool:
        """An ``'index'`` bank writes each sample to its own slot."""
        return self.contrast.bank.mode == 'index'

    def embed(self, taps: Dict[str, torch.Tensor]) -> torch.Tensor:
        """The L2-normalised embeddings ``(B, proj_dim)``."""
        return self.proj(taps[self.tap_name].flatten(1))

    def loss(self, taps: Dict[str, torch.Tensor], logits: torch.Tensor,
             labels: torch.Tensor, sample_idx: Optional[torch.Tensor],
             **kwargs) -> Dict[str, torch.Tensor]:
        return self.contrast(self.embed(taps), labels, sample_idx)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written before the bank moved into `contrast`
        for key in [k for k in state_dict if k.startswith(prefix + 'bank.')]:
            state_dict[prefix + 'contrast.' + key[len(prefix):]] = \
                state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
