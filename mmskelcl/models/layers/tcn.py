"""Temporal building blocks shared by the GCN encoders.

CTR-GCN's (Chen et al., ICCV 2021) temporal convolution, residual path and
multi-scale TCN, faithful to the official ``model/ctrgcn.py`` (parameter
shapes match, so parameter counts equal the official ones). InfoGCN,
BlockGCN, Hyperformer and CSRE's encoders reuse the same multi-scale TCN.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule


class TemporalConvBN(BaseModule):
    """A ``(k, 1)`` temporal convolution with dilation, then BatchNorm."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 dilation: int = 1) -> None:
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(kernel_size, 1),
            padding=(pad, 0),
            stride=(stride, 1),
            dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def channel_residual(in_channels: int, out_channels: int) -> nn.Module:
    """The residual path of a graph-convolution unit (CTR-GCN, 2s-AGCN,
    BlockGCN, InfoGCN): identity, or a 1x1 conv + BN (``0``, ``1`` in the
    state dict) when the channels change."""
    if in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1),
                         nn.BatchNorm2d(out_channels))


def temporal_residual(in_channels: int, out_channels: int, stride: int,
                      enabled: bool = True) -> Optional[nn.Module]:
    """CTR-GCN's residual path: none, identity, or a strided 1x1 conv+BN
    when the channels or the frame rate change."""
    if not enabled:
        return None
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return TemporalConvBN(in_channels, out_channels, 1, stride)


class MultiScaleTCN(BaseModule):
    """Multi-scale temporal convolution of CTR-GCN.

    ``len(dilations)`` dilated branches, a max-pool branch and a 1x1 branch,
    each with ``out_channels // num_branches`` channels, concatenated.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Temporal kernel of the dilated branches.
        stride (int): Temporal stride.
        dilations (Sequence[int]): One branch per dilation.
        residual (bool): Add a (strided 1x1) residual inside the unit.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 5,
                 stride: int = 1,
                 dilations: Sequence[int] = (1, 2),
                 residual: bool = False) -> None:
        super().__init__()
        num_branches = len(dilations) + 2
        if out_channels % num_branches:
            raise ValueError(f'out_channels={out_channels} must be divisible '
                             f'by the number of branches {num_branches}')
        mid = out_channels // num_branches
        self.branches = nn.ModuleList()
        for d in dilations:
            self.branches.append(
                nn.Sequential(
                    nn.Conv2d(in_channels, mid, 1), nn.BatchNorm2d(mid),
                    nn.ReLU(inplace=True),
                    TemporalConvBN(mid, mid, kernel_size, stride, d)))
        self.branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, mid, 1), nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True),
                nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
                nn.BatchNorm2d(mid)))
        self.branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, mid, 1, stride=(stride, 1)),
                nn.BatchNorm2d(mid)))
        self.residual = temporal_residual(in_channels, out_channels, stride,
                                          residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        if self.residual is not None:
            out = out + self.residual(x)
        return out
