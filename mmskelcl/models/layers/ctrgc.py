"""CTR-GC: channel-wise topology refinement graph convolution (Chen et al.,
ICCV 2021), faithful to the official ``model/ctrgcn.py``."""
from typing import Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from .tcn import channel_residual


class CTRGC(BaseModule):
    """Channel-wise topology refinement graph convolution (one subset).

    The refined topology is
    ``Q = conv4(tanh(mean_T(conv1 x)[..., :, None] - mean_T(conv2 x)[..., None, :]))``
    with shape ``(N, C_out, V, V)``; the aggregation uses ``Q * alpha + A``
    with the official einsum ``'ncuv,nctv->nctu'`` (row ``u`` of the graph
    gathers from joints ``v``).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        rel_reduction (int): ``rel_channels = in_channels // rel_reduction``;
            inputs with ``in_channels <= 16`` use 8 relation channels (the
            official rule for 3 and 9 input channels, extended so that 2D+
            score or stacked streams do not give zero channels).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 rel_reduction: int = 8) -> None:
        super().__init__()
        rel = 8 if in_channels <= 16 else in_channels // rel_reduction
        self.conv1 = nn.Conv2d(in_channels, rel, 1)
        self.conv2 = nn.Conv2d(in_channels, rel, 1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, 1)
        self.conv4 = nn.Conv2d(rel, out_channels, 1)

    def topology(self, x: torch.Tensor) -> torch.Tensor:
        """Channel-wise refined topology before ``alpha`` and ``A``."""
        x1 = self.conv1(x).mean(-2)
        x2 = self.conv2(x).mean(-2)
        return self.conv4(torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2)))

    def forward(self, x: torch.Tensor, A: torch.Tensor,
                alpha: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        q = self.topology(x)
        graph = q * alpha + A[None, None]
        out = torch.einsum('ncuv,nctv->nctu', graph, self.conv3(x))
        return out, q


class CTRGCNUnit(BaseModule):
    """Spatial unit of CTR-GCN: a sum of :class:`CTRGC` over the subsets of
    the adjacency, BN, a residual and ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Adjacency subsets ``(K, V, V)``.
        adaptive (bool): Learn ``A`` (a parameter) or keep it fixed.
        rel_reduction (int): See :class:`CTRGC`.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 adaptive: bool = True,
                 rel_reduction: int = 8) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            CTRGC(in_channels, out_channels, rel_reduction)
            for _ in range(A.shape[0]))
        self.down = channel_residual(in_channels, out_channels)
        if adaptive:
            self.PA = nn.Parameter(A.clone())
        else:
            self.register_buffer('PA', A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(
        self,
        x: torch.Tensor,
        return_topology: bool = False
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        y = 0
        topologies = []
        for k, conv in enumerate(self.convs):
            z, q = conv(x, self.PA[k], self.alpha)
            y = y + z
            if return_topology:
                topologies.append(q)
        y = self.relu(self.bn(y) + self.down(x))
        if return_topology:
            return y, torch.stack(topologies, dim=1)  # (N, K, C, V, V)
        return y
