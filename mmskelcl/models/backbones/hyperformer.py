"""Hyperformer (Zhou et al., 2022): hypergraph self-attention encoder.

Faithful to the released ``model/Hyperformer.py`` (ZhouYuxuanYX/Hyperformer,
also the encoder of CSRE's release): ten blocks of hypergraph
self-attention followed by CTR-GCN's multi-scale TCN, 216 channels
(9 heads x 24), temporal stride 2 at blocks 5 and 8. The skeleton graph is
used only through its hop distances (relative positional encoding); the
body-part hypergraph is the ``joint_label`` partition of the joints.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..layers import MultiScaleTCN, data_bn_nmtvc, temporal_residual
from ..utils.block_stack import BlockStackMixin, stage_io, stage_plan


def hop_distances(A: np.ndarray) -> np.ndarray:
    """Shortest-path hop counts between joints of a graph.

    Args:
        A (np.ndarray): Adjacency ``(V, V)`` or subsets ``(K, V, V)``; any
            non-zero entry (of any subset) is an edge, direction ignored.

    Returns:
        np.ndarray: ``(V, V)`` int64, 0 on the diagonal.

    Raises:
        ValueError: If some joints are not connected (the released code
            would silently give them hop 0, the self-loop encoding).
    """
    A = np.asarray(A)
    adj = (A.sum(0) if A.ndim == 3 else A) != 0
    V = adj.shape[0]
    adj = adj | adj.T | np.eye(V, dtype=bool)
    dist = np.where(np.eye(V, dtype=bool), 0, -1).astype(np.int64)
    reach = np.eye(V, dtype=bool)
    for k in range(1, V):
        new = (reach.astype(np.int64) @ adj.astype(np.int64)) > 0
        dist[new & ~reach] = k
        reach = new
    if (dist < 0).any():
        raise ValueError('Hyperformer needs a connected skeleton graph; '
                         f'{int((dist < 0).sum())} joint pairs are not '
                         'connected by the layout edges')
    return dist


class HypergraphAttention(BaseModule):
    """Hypergraph self-attention (released ``MHSA``).

    ``softmax(s (q.k + q.r_hop + q.e + w.e)) * alpha + outer`` aggregates
    ``v``, where ``r_hop`` is a learned embedding of the hop distance and
    ``e`` the (projected) mean feature of the key joint's body part.

    Args:
        in_channels (int): Input channels.
        channels (int): Output channels (``num_heads * head channels``).
        num_heads (int): Attention heads.
        hops (torch.Tensor): Hop distances ``(V, V)`` (long).
        proj_groups (int): Groups of the output 1x1 projection (6 in the
            release, independent of the heads).
        qkv_bias (bool): Bias of the query/key/value convolutions.
    """

    def __init__(self, in_channels: int, channels: int, num_heads: int,
                 hops: torch.Tensor, proj_groups: int = 6,
                 qkv_bias: bool = False) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f'channels={channels} must be divisible by '
                             f'num_heads={num_heads}')
        V = hops.shape[0]
        self.num_heads = num_heads
        self.head_channels = channels // num_heads
        self.scale = self.head_channels**-0.5
        self.q = nn.Conv2d(in_channels, channels, 1, bias=qkv_bias)
        self.kv = nn.Conv2d(in_channels, 2 * channels, 1, bias=qkv_bias)
        self.rpe = nn.Parameter(torch.zeros(int(hops.max()) + 1, channels))
        self.w1 = nn.Parameter(torch.zeros(num_heads, self.head_channels))
        self.outer = nn.Parameter(torch.eye(V).repeat(num_heads, 1, 1))
        self.alpha = nn.Parameter(torch.zeros(1))
        self.proj = nn.Conv2d(channels, channels, 1, groups=proj_groups)
        self.register_buffer('hops', hops.long(), persistent=False)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """``x`` ``(N, C_in, T, V)``, part embedding ``e`` ``(N, C, T, V)``
        -> ``(N, C, T, V)``."""
        N, _, T, V = x.shape
        H, d = self.num_heads, self.head_channels

        def heads(t):  # (N, H * d, T, V) -> (N, T, H, V, d)
            return t.reshape(N, H, d, T, V).permute(0, 3, 1, 4, 2)

        q, e = heads(self.q(x)), heads(e)
        k, v = (heads(t) for t in self.kv(x).chunk(2, dim=1))
        r = self.rpe[self.hops].view(V, V, H, d)
        logits = (q @ (k + e).transpose(-2, -1) +
                  torch.einsum('nthuc,uwhc->nthuw', q, r) +
                  torch.einsum('hc,nthwc->nthw', self.w1, e).unsqueeze(-2))
        attn = (logits * self.scale).softmax(dim=-1)
        out = (self.alpha * attn + self.outer) @ v  # (N, T, H, V, d)
        return self.proj(out.permute(0, 2, 4, 1, 3).reshape(N, H * d, T, V))


class HyperformerBlock(BaseModule):
    """``relu(tcn(skip(x) + attn(LN(x), e)) + residual(x))`` (released
    ``TCN_ViT_unit`` with its ``unit_vit``).

    Args:
        in_channels (int): Input channels.
        channels (int): Output channels.
        num_heads (int): Attention heads.
        hops (torch.Tensor): Hop distances ``(V, V)``.
        joint_label (torch.Tensor): Body part of each joint ``(V, )``.
        stride (int): Temporal stride.
        proj_groups (int): Groups of the attention output projection.
        kernel_size (int): Temporal kernel of the multi-scale TCN.
        dilations (Sequence[int]): Dilations of the multi-scale TCN.
    """

    def __init__(self, in_channels: int, channels: int, num_heads: int,
                 hops: torch.Tensor, joint_label: torch.Tensor,
                 stride: int = 1, proj_groups: int = 6, kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2)) -> None:
        super().__init__()
        onehot = nn.functional.one_hot(joint_label.long()).float()
        self.register_buffer('part_mean', onehot / onehot.sum(0),
                             persistent=False)  # (V, G)
        self.register_buffer('joint_label', joint_label.long(),
                             persistent=False)
        self.norm = nn.LayerNorm(in_channels)
        self.attn = HypergraphAttention(in_channels, channels, num_heads,
                                        hops, proj_groups)
        self.pe_proj = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.skip_proj = (nn.Conv2d(in_channels, channels, 1, bias=False)
                          if in_channels != channels else nn.Identity())
        self.tcn = MultiScaleTCN(channels, channels, kernel_size, stride,
                                 dilations, residual=False)
        self.residual = temporal_residual(in_channels, channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C_in, T, V)`` -> ``(N, C, T / stride, V)``."""
        e = self.pe_proj(x @ self.part_mean)[..., self.joint_label]
        y = self.attn(self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), e)
        y = self.tcn(self.skip_proj(x) + y)
        return self.relu(y + self.residual(x))


@MODELS.register_module()
class Hyperformer(BlockStackMixin, BaseModule):
    """Hyperformer backbone, released architecture.

    Input ``(N, M, T, V, C)``; output ``(N, M, C', T', V)`` (pool with
    :class:`GCNHead`, as the release: mean over T, V, then persons).

    Taps: ``'block1'`` ... ``'block10'`` (block outputs) and ``'final'``
    (the last block's map before pooling, what CSRE's STFD reads), all
    ``(N, M, C, T, V)``.

    Args:
        graph_cfg (dict): Graph config; only its edges are used, for the
            hop distances of the relative positional encoding.
        joint_label (Sequence[int]): Body part (hyperedge) id of each joint,
            ``0 .. G-1``, per layout and stream (released: NTU
            ``[0,4,2,2,2,2,1,1,2,2,1,1,2,3,3,3,2,3,3,3,1,0,1,0,1]``, NW-UCLA
            joint ``[0]*4+[1]*8+[2]*8``, NW-UCLA bone
            ``[0,0,0,0,0,1,1,1,0,1,1,1,0,2,2,2,0,2,2,2]``).
        in_channels (int): Input channels.
        num_person (int): Persons per sample (sizes the MVC data BN).
        num_heads (int): Attention heads (9).
        head_channels (int): Channels per head (24; 216 channels).
        num_stages (int): Number of blocks (10).
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
        proj_groups (int): Groups of the attention output projection (6).
        kernel_size (int): TCN kernel.
        dilations (Sequence[int]): TCN dilations.
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): ``-1`` none, ``0`` the data BN, ``i`` also
            blocks ``1 .. i``.
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        init_cfg (dict or list[dict], optional): ``None`` is the released
            initialisation.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 joint_label: Sequence[int],
                 in_channels: int = 3,
                 num_person: int = 2,
                 num_heads: int = 9,
                 head_channels: int = 24,
                 num_stages: int = 10,
                 down_stages: Sequence[int] = (5, 8),
                 proj_groups: int = 6,
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2),
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = build_graph(graph_cfg)
        hops = torch.from_numpy(hop_distances(self.graph.A))
        V = hops.shape[0]
        label = self._check_joint_label(joint_label, V, graph_cfg)
        self.num_joints, self.num_person = V, num_person
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * V)
        channels = num_heads * head_channels
        plan = stage_plan(channels, num_stages, (), down_stages)
        self.blocks = nn.ModuleList(
            HyperformerBlock(c_in, c_out, num_heads, hops, label, stride,
                             proj_groups, kernel_size, dilations)
            for c_in, c_out, stride in stage_io(in_channels, plan))
        self.out_channels = channels
        self._finish_init(plan, out_taps, frozen_stages, norm_eval)

    @staticmethod
    def _check_joint_label(joint_label: Sequence[int], V: int,
                           graph_cfg: Dict) -> torch.Tensor:
        label = [int(g) for g in joint_label]
        if len(label) != V:
            raise ValueError(
                f'Hyperformer: joint_label has {len(label)} entries but '
                f'layout {graph_cfg.get("layout")!r} has {V} joints; give '
                f'one body-part id per joint')
        groups = set(label)
        if min(label) < 0 or groups != set(range(max(label) + 1)):
            raise ValueError(
                f'Hyperformer: joint_label part ids must be 0 .. G-1, each '
                f'used at least once; got {label}')
        return torch.tensor(label)

    def released_init(self) -> None:
        """Released init: data BN 1/0; TCN convs Kaiming fan-out with BN
        weights ~ N(1, 0.02) (``weights_init``); residual conv Kaiming
        fan-out, BN 1/0 (``unit_tcn``); attention at PyTorch defaults with
        ``rpe``, ``w1``, ``alpha`` zero and ``outer`` the identity."""
        nn.init.constant_(self.data_bn.weight, 1)
        nn.init.constant_(self.data_bn.bias, 0)
        for block in self.blocks:
            for m in list(block.tcn.modules()) + (
                    list(block.residual.modules())):
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out')
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    in_tcn = any(m is b for b in block.tcn.modules())
                    if in_tcn:
                        nn.init.normal_(m.weight, 1.0, 0.02)
                    else:
                        nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    def _stage_modules(self) -> List[nn.Module]:
        return [self.data_bn, *self.blocks]

    def _stem_forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        M, V = x.shape[1], x.shape[3]
        if M != self.num_person or V != self.num_joints:
            raise ValueError(
                f'Hyperformer was built for {self.num_person} person(s) and '
                f'{self.num_joints} joints but got input {tuple(x.shape)} '
                f'(N, M, T, V, C); set num_person / graph_cfg to match')
        return data_bn_nmtvc(self.data_bn, x), ()
