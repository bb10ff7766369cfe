"""2s-AGCN backbone (Shi et al., CVPR 2019), as released in
lshiwjx/2s-AGCN ``model/agcn.py``, with named taps and frozen stages."""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..layers import (TemporalConvBN, channel_residual, data_bn_nmtvc,
                      temporal_residual)
from ..utils.block_stack import BlockStackMixin, stage_io, stage_plan


class AdaptiveGraphConv(BaseModule):
    """Adaptive graph convolution of 2s-AGCN (released ``unit_gcn``).

    For each adjacency subset ``k`` the graph is ``A_k + B_k + C_k``: the
    fixed normalised adjacency ``A_k`` (a non-persistent buffer: it comes
    from the layout, not from a checkpoint), a learned offset ``B_k``
    (``PA``, initialised to 1e-6) and a per-sample graph
    ``C_k = softmax_u(theta(x)^T phi(x) / (C_e T))`` (``conv_a``/``conv_b``
    embeddings of ``C_e = out_channels // coff_embedding`` channels,
    normalised over the first joint axis as released). The aggregated
    features go through a 1x1 ``conv_d`` per subset; the sum is batch
    normalised, added to a (1x1 conv + BN) residual and rectified.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Adjacency subsets ``(K, V, V)``.
        coff_embedding (int): Channel reduction of the embeddings.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 coff_embedding: int = 4) -> None:
        super().__init__()
        num_subsets = A.shape[0]
        inter = out_channels // coff_embedding
        if inter < 1:
            raise ValueError(f'out_channels={out_channels} is smaller than '
                             f'coff_embedding={coff_embedding}')
        self.inter_channels = inter
        self.register_buffer('A', A.clone(), persistent=False)
        self.PA = nn.Parameter(torch.full_like(A, 1e-6))
        self.conv_a = nn.ModuleList(
            nn.Conv2d(in_channels, inter, 1) for _ in range(num_subsets))
        self.conv_b = nn.ModuleList(
            nn.Conv2d(in_channels, inter, 1) for _ in range(num_subsets))
        self.conv_d = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, 1)
            for _ in range(num_subsets))
        self.down = channel_residual(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def attention(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """The data-dependent graph ``C_k`` of subset ``k``: ``(N, V, V)``,
        columns summing to 1."""
        a = self.conv_a[k](x)  # (N, C_e, T, V)
        b = self.conv_b[k](x)
        scale = a.shape[1] * a.shape[2]  # C_e * T, as released
        return torch.softmax(
            torch.einsum('nctu,nctv->nuv', a, b) / scale, dim=-2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        graph = self.A + self.PA
        y = 0
        for k, conv_d in enumerate(self.conv_d):
            adj = self.attention(x, k) + graph[k]
            y = y + conv_d(torch.einsum('nctv,nvw->nctw', x, adj))
        return self.relu(self.bn(y) + self.down(x))


class AGCNBlock(BaseModule):
    """``relu(tcn(gcn(x)) + residual(x))`` (released ``TCN_GCN_unit``): a
    9x1 temporal convolution + BN after the adaptive graph convolution."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 residual: bool = True,
                 kernel_size: int = 9,
                 coff_embedding: int = 4) -> None:
        super().__init__()
        self.gcn = AdaptiveGraphConv(in_channels, out_channels, A,
                                     coff_embedding)
        self.tcn = TemporalConvBN(out_channels, out_channels, kernel_size,
                                  stride)
        self.residual = temporal_residual(in_channels, out_channels, stride,
                                          residual)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.relu(y)


@MODELS.register_module()
class AGCN(BlockStackMixin, BaseModule):
    """2s-AGCN backbone (one stream; the paper's "2s" is the joint + bone
    ensemble of two such models, ``agcn_j`` + ``agcn_b``).

    Ten blocks ``64, 64, 64, 64, 128, 128, 128, 256, 256, 256`` with
    temporal stride 2 at blocks 5 and 8, each an
    :class:`AdaptiveGraphConv` (3 subsets of the ``spatial`` graph) and a
    9x1 temporal convolution, after an ``MVC`` data BN. No residual in
    block 1, as released.

    Input ``(N, M, T, V, C)``; output ``(N, M, C', T', V)``.

    Taps: ``'block1'`` ... ``'block<num_stages>'`` (block outputs) and
    ``'final'`` (the last block's map before pooling, which CSRE's STFD
    reads), all ``(N, M, C, T, V)``.

    Args:
        graph_cfg (dict): Graph config (``layout``, ``mode='spatial'``).
        in_channels (int): Input channels.
        num_person (int): Persons per sample (sizes the ``MVC`` data BN).
        base_channels (int): Channels of the first block.
        num_stages (int): Number of blocks.
        inflate_stages (Sequence[int]): 1-based blocks doubling channels.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
        kernel_size (int): Temporal kernel.
        coff_embedding (int): Channel reduction of the graph embeddings.
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): ``-1`` none, ``0`` the data BN, ``i`` the data
            BN and blocks ``1 .. i``.
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        init_cfg (dict or list[dict], optional): When ``None`` the released
            initialisation (see :meth:`released_init`).

    Example:
        >>> m = AGCN(graph_cfg=dict(layout='nwucla'), num_person=1)
        >>> m(torch.randn(2, 1, 52, 20, 3)).shape
        torch.Size([2, 1, 256, 13, 20])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 base_channels: int = 64,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 kernel_size: int = 9,
                 coff_embedding: int = 4,
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = build_graph(graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.num_joints = A.shape[-1]
        self.num_person = num_person
        self.data_bn = nn.BatchNorm1d(num_person * in_channels *
                                      self.num_joints)
        plan = stage_plan(base_channels, num_stages, inflate_stages,
                          down_stages)
        self.blocks = nn.ModuleList(
            AGCNBlock(c_in, c_out, A, stride, residual=i > 0,
                      kernel_size=kernel_size, coff_embedding=coff_embedding)
            for i, (c_in, c_out, stride) in enumerate(
                stage_io(in_channels, plan)))
        self.out_channels = plan[-1][0]
        self._finish_init(plan, out_taps, frozen_stages, norm_eval)

    def released_init(self) -> None:
        """Initialisation of the released ``model/agcn.py``: Kaiming-normal
        (fan-out) convolutions with zero bias, BN weight 1 / bias 0, except
        each graph unit's output BN (weight 1e-6) and its ``conv_d``, drawn
        from ``N(0, sqrt(2 / (C_out C_in K)))`` (``conv_branch_init``);
        ``PA`` is 1e-6."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        for block in self.blocks:
            gcn = block.gcn
            nn.init.constant_(gcn.bn.weight, 1e-6)
            nn.init.constant_(gcn.PA, 1e-6)
            for conv in gcn.conv_d:
                n, k1, k2 = conv.weight.shape[:3]
                std = math.sqrt(2. / (n * k1 * k2 * len(gcn.conv_d)))
                nn.init.normal_(conv.weight, 0, std)
                nn.init.constant_(conv.bias, 0)

    def _stage_modules(self) -> List[nn.Module]:
        return [self.data_bn, *self.blocks]

    def _stem_forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        self._check_persons(x)
        return data_bn_nmtvc(self.data_bn, x), ()
