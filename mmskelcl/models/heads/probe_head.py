"""Linear-probe head: ``GCNHead`` with an optional feature normalisation.

The released SkeAttnCLR linear protocol trains an FC on the frozen
backbone's pooled features with SGD at lr 3.0. How far such a probe gets
depends on the features' scale as much as on what they encode: on NW-UCLA
a random frozen ST-GCN in eval mode (its BatchNorm statistics are the
identity) gives pooled features of norm ~18, on which the lr-3.0 probe's
loss stays in the hundreds and the probe ends at chance, while a
logistic regression on the same features, standardised, reaches ~45 %
(docs/skeattnclr.md). ``feat_norm='bn'`` puts a BatchNorm without affine
parameters between pooling and FC, as MAE's linear probing does (He et
al., 2022, appendix A), so the probe sees standardised features whatever
the backbone: the pretrained and the random backbone are then compared
on what their features encode. It is a switch of this project, not of
the SkeAttnCLR paper or release (``feat_norm=None``, the default, is
``GCNHead``: same parameters, same state-dict keys, same output).
"""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.models.heads.gcn_head import GCNHead
from mmaction.registry import MODELS

FEAT_NORMS = (None, 'bn')


@MODELS.register_module()
class ProbeHead(GCNHead):
    """``GCNHead`` (pool over T, V, then persons, dropout, FC) with an
    optional BatchNorm of the pooled feature before the FC.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels ``C`` of the backbone output.
        feat_norm (str, optional): ``None`` (plain ``GCNHead``) or ``'bn'``
            (``BatchNorm1d(C, affine=False)``: batch statistics in
            training, running statistics in eval; nothing learnt).
        bn_eps (float): The BatchNorm's epsilon (MAE's probe: 1e-6).
        **kwargs: ``GCNHead``'s other arguments (``loss_cls``, ``dropout``,
            ``average_clips``, ``init_cfg``), with its defaults.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feat_norm: Optional[str] = None,
                 bn_eps: float = 1e-6,
                 **kwargs) -> None:
        if feat_norm not in FEAT_NORMS:
            raise ValueError(f'ProbeHead: feat_norm={feat_norm!r}; use None '
                             "(plain GCNHead) or 'bn'")
        super().__init__(num_classes, in_channels, **kwargs)
        self.feat_norm = feat_norm
        self.norm = nn.BatchNorm1d(in_channels, eps=bn_eps, affine=False) \
            if feat_norm == 'bn' else None

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, M, C, T, V)`` backbone output -> ``(N, C)``: mean over
        ``T``, ``V``, then over the ``M`` persons."""
        if x.dim() != 5 or x.shape[2] != self.in_channels:
            raise ValueError('ProbeHead: expected (N, M, C, T, V) with C = '
                             f'{self.in_channels}, got {tuple(x.shape)}')
        return x.mean(dim=(3, 4)).mean(dim=1)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores ``(N, num_classes)`` of ``(N, M, C, T, V)``."""
        feat = self.pooled(x)
        if self.norm is not None:
            feat = self.norm(feat)
        if self.dropout is not None:
            feat = self.dropout(feat)
        return self.fc(feat)
