"""BlockGCN backbone (Zhou et al., CVPR 2024), as released in
``ZhouYuxuanYX/BlockGCN`` (``model/BlockGCN.py``), with named taps.

Layout-dependent constants are derived from the configured graph: the hop
distances of the static topology encoding (shortest paths in the skeleton
with self-loops, as the release's ``k-hop`` loop computes them) and the
persistent-homology encoding of each clip (which the release takes from
``torch_topological``: 0-dimensional Vietoris-Rips persistence, i.e. the
edge lengths of a minimum spanning tree, computed here with Prim's
algorithm, so no topology library is needed).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..layers import (MultiScaleTCN, channel_residual, data_bn_nmtvc,
                      temporal_residual)
from ..utils.block_stack import BlockStackMixin, stage_io, stage_plan


def hop_distances(adjacency: np.ndarray) -> np.ndarray:
    """Shortest-path hop counts of a graph ``(V, V)`` (nonzero = edge);
    unreachable pairs get 0, as in the release."""
    reach = (adjacency != 0) | np.eye(len(adjacency), dtype=bool)
    hops = np.zeros(reach.shape, dtype=np.int64)
    seen, frontier, k = np.eye(len(reach), dtype=bool), reach, 1
    while (frontier & ~seen).any():
        hops[frontier & ~seen] = k
        seen = seen | frontier
        frontier = (frontier.astype(np.int64) @ reach.astype(np.int64)) > 0
        k += 1
    return hops


def mst_edge_lengths(points: torch.Tensor) -> torch.Tensor:
    """Deaths of the finite 0-dim Vietoris-Rips persistence pairs of point
    clouds ``(B, V, D)``: the ``V - 1`` minimum-spanning-tree edge lengths
    ``(B, V - 1)`` (Prim), Euclidean distances."""
    dist = torch.cdist(points, points)
    B, V = dist.shape[:2]
    in_tree = torch.zeros(B, V, dtype=torch.bool, device=dist.device)
    in_tree[:, 0] = True
    best = dist[:, 0]
    deaths = []
    for _ in range(V - 1):
        d, j = best.masked_fill(in_tree, float('inf')).min(dim=1)
        deaths.append(d)
        in_tree[torch.arange(B), j] = True
        best = torch.minimum(best, dist[torch.arange(B), j])
    return torch.stack(deaths, dim=1)


class PersistenceEncoding(BaseModule):
    """Persistent-homology encoding of a clip (release's ``Topo``).

    ``D[u, v] = |mean_{M,T} x_u - mean_{M,T} x_v|``, min-max normalised;
    its rows are a point cloud whose 0-dim persistence diagram (births 0,
    deaths = MST edge lengths) is vectorised by ``n_elements`` learnable
    structure elements: ``sum_k exp(-s0^2 c0^2 - s1^2 (c1 - d_k)^2)``.

    Args:
        n_elements (int): Structure elements (output size).
        batch_norm (bool): Min-max normalise over the whole batch as
            released (each sample then depends on the others); ``False``
            normalises each sample alone.
    """

    def __init__(self, n_elements: int = 64, batch_norm: bool = False) -> None:
        super().__init__()
        self.centres = nn.Parameter(torch.rand(n_elements, 2))
        self.sharpness = nn.Parameter(torch.full((n_elements, 2), 3.))
        self.batch_norm = batch_norm

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        """``(N, M, T, V, C)`` joints -> ``(N, n_elements)``."""
        mean = joints.float().mean(dim=(1, 2))  # (N, V, C)
        d = torch.cdist(mean, mean)
        dims = (0, 1, 2) if self.batch_norm else (1, 2)
        lo, hi = d.amin(dim=dims, keepdim=True), d.amax(dim=dims, keepdim=True)
        d = (d - lo) / (hi - lo).clamp_min(1e-12)
        deaths = mst_edge_lengths(d)  # (N, V - 1)
        s2 = self.sharpness.pow(2)
        energy = (s2[:, 0] * self.centres[:, 0].pow(2))[None, :, None] + (
            s2[:, 1, None] * (self.centres[:, 1, None] - deaths[:, None])**2)
        return torch.exp(-energy).sum(-1)


class BlockGCNStem(BaseModule):
    """Joint embedding (Linear + learned joint positions), ``MVC`` data BN
    and the clip's :class:`PersistenceEncoding` (stage 0 when freezing)."""

    def __init__(self, in_channels: int, channels: int, num_joints: int,
                 num_person: int, n_elements: int = 64,
                 batch_coupling: bool = False) -> None:
        super().__init__()
        self.embed = nn.Linear(in_channels, channels)
        self.pos_embed = nn.Parameter(torch.randn(1, num_joints, channels))
        self.data_bn = nn.BatchNorm1d(num_person * channels * num_joints)
        self.topo = PersistenceEncoding(n_elements, batch_coupling)
        self.batch_coupling = batch_coupling

    def forward(self, x: torch.Tensor, joints: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(N, M, T, V, C)`` stream and joints -> features
        ``(N * M, C', T, V)`` and per-person encodings ``(N * M, E)``."""
        M = x.shape[1]
        topo = self.topo(joints)
        if self.batch_coupling:  # release: x.repeat(2, 1) for NTU
            topo = topo.repeat(M, 1)
        else:
            topo = topo.repeat_interleave(M, dim=0)
        x = self.embed(x) + self.pos_embed
        return data_bn_nmtvc(self.data_bn, x), topo


class BlockGC(BaseModule):
    """Block graph convolution (release's ``unit_gcn``).

    Per subset ``k``: a per-head learnable ``V x V`` matrix (identity init),
    column-normalised, plus a column-normalised hop-distance encoding
    ``rpe[k, h, hops]``, aggregates each head's channel block; a grouped 1x1
    convolution projects; the subsets are summed, then BN, residual, ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        hops (torch.Tensor): Hop distances ``(V, V)``.
        num_sets (int): Subsets (3 in the release).
    """

    def __init__(self, in_channels: int, out_channels: int,
                 hops: torch.Tensor, num_sets: int = 3) -> None:
        super().__init__()
        heads = 8 if in_channels > 8 else 1
        V = hops.shape[-1]
        self.num_heads = heads
        self.fc1 = nn.Parameter(torch.eye(V).repeat(num_sets, heads, 1, 1))
        self.fc2 = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, 1, groups=heads)
            for _ in range(num_sets))
        self.rpe = nn.Parameter(
            torch.zeros(num_sets, heads, int(hops.max()) + 1))
        self.register_buffer('hops', hops.long(), persistent=False)
        self.down = channel_residual(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    @staticmethod
    def _col_norm(w: torch.Tensor) -> torch.Tensor:
        return w / (w.norm(dim=-2, keepdim=True) + 1e-4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, T, V = x.shape
        pos = self.rpe[:, :, self.hops]  # (K, H, V, V)
        xh = x.view(N, self.num_heads, C // self.num_heads, T, V)
        y = 0
        for k, proj in enumerate(self.fc2):
            w = self._col_norm(self.fc1[k]) + self._col_norm(pos[k])
            z = torch.einsum('nhctv,hvw->nhctw', xh, w).reshape(N, C, T, V)
            y = y + proj(z)
        return self.relu(self.bn(y) + self.down(x))


class BlockGCNBlock(BaseModule):
    """``relu(tcn(gcn(x + topo)) + residual(x + topo))`` where ``topo`` is
    the block's projection (Linear, BN1d, ReLU) of the persistence encoding
    (release: ``TopoTrans`` ``t{i-1}`` then ``TCN_GCN_unit`` ``l{i}``)."""

    def __init__(self, in_channels: int, out_channels: int,
                 hops: torch.Tensor, stride: int = 1, residual: bool = True,
                 num_sets: int = 3, topo_dim: int = 64) -> None:
        super().__init__()
        self.topo_fc = nn.Linear(topo_dim, in_channels)
        self.topo_bn = nn.BatchNorm1d(in_channels)
        self.gcn = BlockGC(in_channels, out_channels, hops, num_sets)
        self.tcn = MultiScaleTCN(out_channels, out_channels, kernel_size=5,
                                 stride=stride, dilations=(1, 2))
        self.residual = temporal_residual(in_channels, out_channels, stride,
                                          residual)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, topo: torch.Tensor) -> torch.Tensor:
        x = x + torch.relu(self.topo_bn(self.topo_fc(topo)))[..., None, None]
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.relu(y)


@MODELS.register_module()
class BlockGCN(BlockStackMixin, BaseModule):
    """BlockGCN backbone, released architecture.

    A per-joint linear embedding to ``base_channels`` plus a learned joint
    position embedding, an ``MVC`` data BN, then ten :class:`BlockGCNBlock`
    (channels 128 x4, 256 x6, stride 2 at blocks 5 and 8). Every block adds
    a projection of the clip's :class:`PersistenceEncoding`.

    The persistence encoding is computed from joint coordinates (the
    release's ``joint`` argument). With ``topo_channels=0`` they are the
    input itself (the joint stream); with ``topo_channels=3`` the input
    carries them as its last channels after the ``in_channels`` of the
    stream (``stream=('b', 'j')`` in the dataset), as the release feeds
    every stream's model the joints.

    Input ``(N, M, T, V, in_channels + topo_channels)``; output
    ``(N, M, C', T', V)``. Taps ``'block1'`` ... ``'block10'`` and
    ``'final'`` (= the last block, before pooling), all ``NMCTV``.

    Args:
        graph_cfg (dict): Graph config (the layout gives ``V`` and hops).
        in_channels (int): Channels of the stream.
        topo_channels (int): Trailing joint channels for the encoding.
        num_person (int): Persons (sizes the ``MVC`` data BN).
        base_channels (int): Embedding channels (128 released).
        num_stages (int): Blocks.
        inflate_stages (Sequence[int]): Blocks that double the channels.
        down_stages (Sequence[int]): Blocks with temporal stride 2.
        num_sets (int): Subsets of each block graph convolution.
        n_elements (int): Structure elements of the persistence encoding.
        released_batch_coupling (bool): Reproduce the release's batch
            coupling: one min-max over the batch, and the encodings tiled
            over persons (``repeat(M, 1)``: person ``m`` of sample ``n``
            gets the encoding of sample ``(n * M + m) mod N``). ``False``
            (default) gives each sample its own encoding.
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): ``-1`` none, ``0`` the stem (embedding, data
            BN, persistence encoding), ``i`` the stem and blocks ``1..i``.
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        init_cfg (dict, optional): ``None`` is the released initialisation.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 topo_channels: int = 0,
                 num_person: int = 2,
                 base_channels: int = 128,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, ),
                 down_stages: Sequence[int] = (5, 8),
                 num_sets: int = 3,
                 n_elements: int = 64,
                 released_batch_coupling: bool = False,
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if topo_channels < 0:
            raise ValueError(f'topo_channels must be >= 0, got '
                             f'{topo_channels}')
        self.graph = build_graph(graph_cfg)
        A = np.asarray(self.graph.A)
        hops = torch.from_numpy(hop_distances(A.sum(0)))
        V = A.shape[-1]
        self.in_channels, self.topo_channels = in_channels, topo_channels
        self.num_person, self.num_joints = num_person, V
        self.released_batch_coupling = released_batch_coupling
        self.stem = BlockGCNStem(in_channels, base_channels, V, num_person,
                                 n_elements, released_batch_coupling)
        plan = stage_plan(base_channels, num_stages, inflate_stages,
                          down_stages)
        self.blocks = nn.ModuleList(
            BlockGCNBlock(c_in, c_out, hops, stride, num_sets=num_sets,
                          topo_dim=n_elements)
            for c_in, c_out, stride in stage_io(base_channels, plan))
        self.out_channels = plan[-1][0]
        self._finish_init(plan, out_taps, frozen_stages, norm_eval)

    def released_init(self) -> None:
        """Released init: Kaiming fan-out convolutions, BN weight 1 (the
        graph convolution's output BN 1e-6, multi-scale TCN BNs
        ``N(1, 0.02)``), identity ``fc1``, zero ``rpe``."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for block in self.blocks:
            nn.init.constant_(block.gcn.bn.weight, 1e-6)
            for m in block.tcn.modules():
                if isinstance(m, nn.BatchNorm2d):
                    nn.init.normal_(m.weight, 1.0, 0.02)

    def _stage_modules(self) -> List[nn.Module]:
        return [self.stem, *self.blocks]

    def _split_input(self, x: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        C = x.shape[-1]
        if C != self.in_channels + self.topo_channels:
            hint = ("add the joints to the input: stream=(STREAM, 'j') in "
                    'the dataset' if self.topo_channels else
                    'set topo_channels or in_channels to match')
            raise ValueError(
                f'BlockGCN expects {self.in_channels} stream + '
                f'{self.topo_channels} joint channels, got {C}: {hint}')
        if self.topo_channels:
            return x[..., :self.in_channels], x[..., self.in_channels:]
        return x, x

    def _stem_forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        """``x`` ``(N, M, T, V, in_channels + topo_channels)``; the blocks
        also take the per-person persistence encodings."""
        x, joints = self._split_input(x)
        self._check_persons(x)
        x, topo = self.stem(x, joints)
        return x, (topo, )
