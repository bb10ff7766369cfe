"""InfoGCN backbone (Chi et al., CVPR 2022), as released in
``stnoah1/infogcn`` (``model/infogcn.py``, ``model/modules.py``), with
named taps. The information-bottleneck latent, its decoder and its
MMD / latent-norm losses are in :class:`~mmskelcl.models.heads.InfoGCNHead`.

The k-th mode representation ``(I - A^k) x`` is derived from the configured
layout's bone tree (``structures.layouts.bone_tree``) and a root joint: the
release's NTU graph (root joint 2) subtracts each joint's parent
(``k_mode='parent'``), its NW-UCLA graph (root joint 3) subtracts the sum of
each joint's children (``'children'``).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import NUM_JOINTS, bone_tree, build_graph
from ..layers import (MultiScaleTCN, channel_residual, data_bn_nmtvc,
                      temporal_residual)
from ..utils.block_stack import BlockStackMixin, stage_io, stage_plan

#: The release's k-mode trees: layout -> (root joint, direction).
RELEASED_K_MODE = {'nturgb+d': (1, 'parent'), 'nwucla': (2, 'children')}


def k_mode_matrix(layout: str, k: int, root: int, mode: str) -> np.ndarray:
    """``I - A^k`` with ``A[child, parent] = 1`` (``'parent'``) or its
    transpose (``'children'``) over the layout's bone tree from ``root``."""
    if mode not in ('parent', 'children'):
        raise ValueError(f"k_mode must be 'parent' or 'children', got {mode}")
    V = NUM_JOINTS[layout]
    A = np.zeros((V, V))
    for child, parent in bone_tree(layout, root):
        A[child, parent] = 1
    if mode == 'children':
        A = A.T
    return np.eye(V) - np.linalg.matrix_power(A, k)


class SAGC(BaseModule):
    """Self-attention graph convolution (release's ``SA_GC``): per head, a
    softmax attention over joints (LayerNorm, linear q/k, per frame) times a
    learnable shared topology (identity init) aggregates the input, a 1x1
    convolution projects; heads summed, BN, residual, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, num_joints: int,
                 num_heads: int = 3) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.hidden = in_channels // 8
        self.shared_topology = nn.Parameter(
            torch.eye(num_joints).repeat(num_heads, 1, 1))
        self.conv_d = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, 1) for _ in range(num_heads))
        self.ln = nn.LayerNorm(in_channels)
        self.to_qk = nn.Linear(in_channels, 2 * self.hidden * num_heads)
        self.down = channel_residual(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V)`` -> ``(N, T, H, V, V)``."""
        q, k = self.to_qk(self.ln(x.permute(0, 2, 3, 1))).chunk(2, dim=-1)
        N, T, V, _ = q.shape
        q = q.view(N, T, V, self.num_heads, self.hidden)
        k = k.view(N, T, V, self.num_heads, self.hidden)
        dots = torch.einsum('ntuhd,ntvhd->nthuv', q, k) * self.hidden**-0.5
        return dots.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        graph = self.attention(x) * self.shared_topology
        y = 0
        for h, conv in enumerate(self.conv_d):
            y = y + conv(torch.einsum('ntuv,nctv->nctu', graph[:, :, h], x))
        return self.relu(self.bn(y) + self.down(x))


class InfoGCNBlock(BaseModule):
    """``relu(relu(mstcn(sagc(x))) + residual(x))`` (release's
    ``EncodingBlock``; its multi-scale TCN ends with a ReLU)."""

    def __init__(self, in_channels: int, out_channels: int, num_joints: int,
                 stride: int = 1, num_heads: int = 3) -> None:
        super().__init__()
        self.gcn = SAGC(in_channels, out_channels, num_joints, num_heads)
        self.tcn = MultiScaleTCN(out_channels, out_channels, kernel_size=5,
                                 stride=stride, dilations=(1, 2))
        self.residual = temporal_residual(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(torch.relu(self.tcn(self.gcn(x))) + self.residual(x))


class InfoGCNStem(BaseModule):
    """k-mode representation, joint embedding + positions, ``MVC`` BN."""

    def __init__(self, k_matrix: np.ndarray, in_channels: int,
                 channels: int, num_person: int) -> None:
        super().__init__()
        V = len(k_matrix)
        self.register_buffer('k_matrix', torch.tensor(k_matrix).float(),
                             persistent=False)
        self.embed = nn.Linear(in_channels, channels)
        self.pos_embed = nn.Parameter(torch.randn(1, V, channels))
        self.data_bn = nn.BatchNorm1d(num_person * channels * V)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, M, T, V, C)`` -> ``(N * M, C', T, V)``."""
        x = self.embed(torch.einsum('uv,nmtvc->nmtuc', self.k_matrix, x))
        return data_bn_nmtvc(self.data_bn, x + self.pos_embed)


@MODELS.register_module()
class InfoGCN(BlockStackMixin, BaseModule):
    """InfoGCN encoder, released architecture (nine blocks, channels
    64 x3, 128 x3, 256 x3, stride 2 at blocks 4 and 7).

    Input ``(N, M, T, V, C)``; output ``(N, M, 256, T', V)``. Taps
    ``'block1'`` ... ``'block9'`` and ``'final'`` (the last block), all
    ``NMCTV``.

    Args:
        graph_cfg (dict): Graph config (only the layout is used).
        in_channels (int): Input channels.
        num_person (int): Persons (sizes the ``MVC`` data BN).
        base_channels (int): Channels of the first blocks (64).
        num_heads (int): Attention heads / topologies per block (3).
        k (int): Power of the k-mode representation (``--k``; 1 in the
            released NTU command; ``k=0`` would zero the input, as released).
        k_root (int, optional): Root of the k-mode tree; default the
            release's (``RELEASED_K_MODE``), else the layout's root.
        k_mode (str, optional): ``'parent'`` or ``'children'``; default as
            ``k_root``.
        num_stages, inflate_stages, down_stages: Block layout.
        out_taps, frozen_stages, norm_eval, init_cfg: As for ``CTRGCN``.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 base_channels: int = 64,
                 num_heads: int = 3,
                 k: int = 1,
                 k_root: Optional[int] = None,
                 k_mode: Optional[str] = None,
                 num_stages: int = 9,
                 inflate_stages: Sequence[int] = (4, 7),
                 down_stages: Sequence[int] = (4, 7),
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        layout = graph_cfg.get('layout', 'coco')
        if not isinstance(layout, str) or layout not in NUM_JOINTS:
            raise ValueError(f'InfoGCN needs a named layout with bone pairs '
                             f'({sorted(NUM_JOINTS)}), got {layout!r}')
        self.graph = build_graph(graph_cfg)
        root, mode = RELEASED_K_MODE.get(layout, (None, 'parent'))
        k_root = root if k_root is None else k_root
        self.k_mode = k_mode or mode
        V = NUM_JOINTS[layout]
        self.num_person, self.num_joints = num_person, V
        self.stem = InfoGCNStem(
            k_mode_matrix(layout, k, k_root, self.k_mode), in_channels,
            base_channels, num_person)
        plan = stage_plan(base_channels, num_stages, inflate_stages,
                          down_stages)
        self.blocks = nn.ModuleList(
            InfoGCNBlock(c_in, c_out, V, stride, num_heads)
            for c_in, c_out, stride in stage_io(base_channels, plan))
        self.out_channels = plan[-1][0]
        self._finish_init(plan, out_taps, frozen_stages, norm_eval)

    def released_init(self) -> None:
        """Released init: the graph convolutions' convs Kaiming fan-out
        (``conv_d`` ``N(0, sqrt(2 / (out * in * heads)))``), their BNs 1
        (output BN 1e-6), ``to_qk`` weight ``N(0, 1)``, data BN 1, the
        residual conv Kaiming; the multi-scale TCNs keep PyTorch's."""
        nn.init.ones_(self.stem.data_bn.weight)
        nn.init.zeros_(self.stem.data_bn.bias)
        for block in self.blocks:
            convs = list(block.gcn.modules())
            if block.residual is not None and not isinstance(
                    block.residual, nn.Identity):
                convs += list(block.residual.modules())
            for m in convs:
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out')
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
            gcn = block.gcn
            nn.init.constant_(gcn.bn.weight, 1e-6)
            for conv in gcn.conv_d:
                o, i = conv.weight.shape[:2]
                nn.init.normal_(conv.weight, 0,
                                (2. / (o * i * gcn.num_heads))**0.5)
            nn.init.normal_(gcn.to_qk.weight, 0, 1)

    def _stage_modules(self) -> List[nn.Module]:
        return [self.stem, *self.blocks]

    def _stem_forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        self._check_persons(x)
        return self.stem(x), ()
