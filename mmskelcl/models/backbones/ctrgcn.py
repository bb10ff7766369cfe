"""CTR-GCN backbone with named taps for auxiliary (contrastive) heads."""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..layers import (CTRGCNUnit, MultiScaleTCN, data_bn_nmtvc,
                      temporal_residual)
from ..utils.block_stack import BlockStackMixin, stage_io, stage_plan
from ..utils.taps import TapInfo


class CTRGCNBlock(BaseModule):
    """``relu(tcn(gcn(x)) + residual(x))`` (official ``TCN_GCN_unit``).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Adjacency subsets ``(K, V, V)``.
        stride (int): Temporal stride of the TCN and the residual.
        residual (bool): Whether the block has a residual path.
        adaptive (bool): Learn the adjacency.
        kernel_size (int): Temporal kernel of the multi-scale TCN.
        dilations (Sequence[int]): Dilations of the multi-scale TCN.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 residual: bool = True,
                 adaptive: bool = True,
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2)) -> None:
        super().__init__()
        self.gcn = CTRGCNUnit(in_channels, out_channels, A, adaptive)
        self.tcn = MultiScaleTCN(
            out_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            dilations=dilations,
            residual=False)
        self.residual = temporal_residual(in_channels, out_channels, stride,
                                          residual)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, return_topology: bool = False):
        if return_topology:
            y, topology = self.gcn(x, return_topology=True)
        else:
            y, topology = self.gcn(x), None
        y = self.tcn(y)
        if self.residual is not None:
            y = y + self.residual(x)
        y = self.relu(y)
        return (y, topology) if return_topology else y


@MODELS.register_module()
class CTRGCN(BlockStackMixin, BaseModule):
    """CTR-GCN backbone (Chen et al., ICCV 2021), official architecture.

    Ten blocks with channels ``64, 64, 64, 64, 128, 128, 128, 256, 256, 256``
    (``base_channels`` x ``ch_ratio`` at ``inflate_stages``), temporal stride
    2 at blocks 5 and 8, CTR-GC with one unit per adjacency subset (3 for
    the ``spatial`` graph mode), a multi-scale TCN and an ``MVC`` data BN.

    Input ``(N, M, T, V, C)``; output ``(N, M, C', T', V)`` (MMAction2's
    GCN convention, so :class:`GCNHead` works unchanged).

    Taps (see :class:`TapMixin`): ``'block1'`` ... ``'block10'`` give the
    output of that block as ``(N, M, C, T, V)``; ``'topology'`` gives the
    channel-wise refined topology of the last block (each subset's
    ``conv4(tanh(...))`` before ``alpha`` and ``A``, as SkeletonGCL/CACL
    contrast it), averaged over channels and persons: ``(N, K, V, V)``.
    ``'topology_full'`` keeps every channel and person:
    ``(N, M, K, C, V, V)``. ``'final'`` is the last block's map before
    pooling (what every encoder publishes under that name; CSRE reads it).

    Args:
        graph_cfg (dict): Graph config; ``layout`` may be any MMAction2
            layout or one registered in :mod:`mmskelcl.structures.layouts`
            (e.g. ``'nwucla'``).
        in_channels (int): Input channels (3 for 3D or 2D + score).
        num_person (int): Persons per sample (sizes the ``MVC`` data BN).
        base_channels (int): Channels of the first block.
        num_stages (int): Number of blocks.
        inflate_stages (Sequence[int]): 1-based blocks that multiply the
            channels by ``ch_ratio``.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
        ch_ratio (int): Channel multiplier at ``inflate_stages``.
        data_bn_type (str, optional): ``'MVC'`` (official), ``'VC'`` (shared
            over persons) or ``None``.
        adaptive (bool): Learn the adjacency.
        kernel_size (int): TCN kernel.
        dilations (Sequence[int]): TCN dilations.
        out_taps (Sequence[str]): Taps returned by default (normally set by
            the recognizer from its auxiliary heads instead).
        frozen_stages (int): ``-1`` none, ``0`` the data BN, ``i`` the data
            BN and blocks ``1 .. i`` (eval mode, no gradient).
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        init_cfg (dict or list[dict], optional): mmengine init config. When
            ``None`` the official initialisation is used (Kaiming fan-out
            convs, BN weight 1, the spatial unit's BN weight 1e-6).

    Example:
        >>> import torch
        >>> m = CTRGCN(graph_cfg=dict(layout='nwucla'), num_person=1)
        >>> x = torch.randn(2, 1, 52, 20, 3)
        >>> m(x).shape
        torch.Size([2, 1, 256, 13, 20])
        >>> feat, taps = m(x, taps=('block5', 'topology'))
        >>> taps['block5'].shape, taps['topology'].shape
        (torch.Size([2, 1, 128, 26, 20]), torch.Size([2, 3, 20, 20]))
    """

    extra_taps = ('topology', 'topology_full')

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 base_channels: int = 64,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 ch_ratio: int = 2,
                 data_bn_type: Optional[str] = 'MVC',
                 adaptive: bool = True,
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2),
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = build_graph(graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        num_joints = A.shape[-1]
        self.in_channels = in_channels
        self.num_person = num_person
        self.data_bn_type = data_bn_type
        if data_bn_type == 'MVC':
            self.data_bn = nn.BatchNorm1d(num_person * in_channels *
                                          num_joints)
        elif data_bn_type == 'VC':
            self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        elif data_bn_type is None:
            self.data_bn = nn.Identity()
        else:
            raise ValueError(f'data_bn_type must be MVC, VC or None, got '
                             f'{data_bn_type!r}')

        plan = stage_plan(base_channels, num_stages, inflate_stages,
                          down_stages, ch_ratio)
        self.blocks = nn.ModuleList(
            CTRGCNBlock(c_in, c_out, A, stride=stride, residual=i > 0,
                        adaptive=adaptive, kernel_size=kernel_size,
                        dilations=dilations)
            for i, (c_in, c_out, stride) in enumerate(
                stage_io(in_channels, plan)))
        self.out_channels = plan[-1][0]
        self.num_subsets = A.shape[0]
        self.num_joints = num_joints
        self._finish_init(plan, out_taps, frozen_stages, norm_eval)

    def released_init(self, tcn_bn_std: float = 0.02) -> None:
        """Initialisation of the released ``model/ctrgcn.py``.

        Kaiming-normal (fan-out) convolutions with zero bias; BatchNorm
        weight 1, bias 0, except the spatial unit's output BN (weight 1e-6,
        ``bn_init(self.bn, 1e-6)``) and every BN inside a multi-scale TCN,
        whose weights the released ``MultiScale_TemporalConv`` draws from
        ``N(1, 0.02)`` (``self.apply(weights_init)``).

        Args:
            tcn_bn_std (float): Std of the ``N(1, std)`` draw of the
                multi-scale TCN BN weights. ``0`` sets them to 1 (this
                project's initialisation before it matched the release;
                ``init_cfg=dict(type='CTRGCNInit', tcn_bn_std=0)``).
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        for block in self.blocks:
            nn.init.constant_(block.gcn.bn.weight, 1e-6)
        if tcn_bn_std > 0:
            for tcn in self.modules():
                if not isinstance(tcn, MultiScaleTCN):
                    continue
                for m in tcn.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        nn.init.normal_(m.weight, 1.0, tcn_bn_std)

    def _extra_tap_table(self) -> Dict[str, TapInfo]:
        table = {}
        table['topology'] = TapInfo(self.num_subsets, (), 'NKVV',
                                    self.num_joints)
        table['topology_full'] = TapInfo(
            self.out_channels, (), 'NMKCVV', self.num_joints,
            subsets=self.num_subsets)
        return table

    def _stage_modules(self) -> list:
        return [self.data_bn, *self.blocks]

    def _normalize_input(self, x: torch.Tensor) -> torch.Tensor:
        N, M, T, V, C = x.shape
        if self.data_bn_type == 'MVC':
            if M != self.num_person:
                raise ValueError(
                    f'CTRGCN was built with num_person={self.num_person} '
                    f'(MVC data BN) but got inputs with {M} persons')
            return data_bn_nmtvc(self.data_bn, x)
        if self.data_bn_type == 'VC':
            return data_bn_nmtvc(self.data_bn, x, per_person=False)
        return x.permute(0, 1, 4, 2, 3).reshape(N * M, C, T, V)

    def forward(self,
                x: torch.Tensor,
                taps: Optional[Sequence[str]] = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict]]:
        """As :meth:`BlockStackMixin.forward` (``(N, M, T, V, C)`` ->
        ``(N, M, C', T', V)`` plus the requested taps); the last block also
        returns its refined topology when a ``topology`` tap is asked for."""
        taps = self._check_taps(self.out_taps if taps is None else taps)
        N, M = x.shape[:2]
        x = self._normalize_input(x)
        want_topology = 'topology' in taps or 'topology_full' in taps
        out = {}
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            if i == last and want_topology:
                x, q = block(x, return_topology=True)
                q = q.view(N, M, *q.shape[1:])  # (N, M, K, C, V, V)
                if 'topology_full' in taps:
                    out['topology_full'] = q
                if 'topology' in taps:
                    out['topology'] = q.mean(dim=(1, 3))
            else:
                x = block(x)
            name = f'block{i + 1}'
            if name in taps:
                out[name] = x.view(N, M, *x.shape[1:])
        x = x.view(N, M, *x.shape[1:])
        if 'final' in taps:
            out['final'] = x
        return (x, out) if taps else x


def official_fc_std(num_classes: int) -> float:
    """Std of the official CTR-GCN classifier init, ``sqrt(2 / K)``."""
    return math.sqrt(2. / num_classes)
