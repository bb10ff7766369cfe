"""Named taps for MMAction2's ST-GCN / ST-GCN++ (``STGCN``) and ``AAGCN``.

MMAction2's backbones return only their last stage. :class:`STGCNTaps` and
:class:`AAGCNTaps` are the same classes (same arguments, modules and
``state_dict`` keys, so checkpoints load both ways with ``strict=True``)
plus the tap protocol of :mod:`mmskelcl.models.utils.taps`: the output of a
block is recorded by a forward hook that exists only during a forward that
asks for it; a forward without taps is the parent's forward, untouched.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmaction.models.backbones import AAGCN, STGCN
from mmaction.registry import MODELS

from ...structures.layouts import EXTRA_LAYOUTS
from ..utils.freeze import FreezeMixin
from ..utils.taps import TapInfo, TapMixin


class BlockTapMixin(FreezeMixin, TapMixin):
    """Taps ``'block<i>'`` on the blocks of an MMAction2 GCN's ``self.gcn``.

    Blocks are numbered like the parent's stages (``inflate_stages``,
    ``down_stages``): ``block1`` ... ``block<num_stages>``. When
    ``in_channels == base_channels`` MMAction2 builds no first block, and
    the taps are ``block2`` ... ``block<num_stages>``. Each tap is the
    block's output as ``(N, M, C, T, V)``. With the default 10 stages:
    block1 64 ch x T, block5 128 x T/2, block8 256 x T/4, block10 256 x T/4
    (FR-Head's tap points, by analogy with CTR-GCN). ``'final'`` is the
    backbone's output before pooling.

    Also adds ``frozen_stages`` (``-1`` none, ``0`` the data BN, ``i`` the
    data BN and the first ``i`` modules of ``self.gcn``) and ``norm_eval``.
    """

    def _init_block_taps(self, out_taps: Sequence[str], frozen_stages: int,
                         norm_eval: bool) -> None:
        first = 1 if self.in_channels != self.base_channels else 2
        self._tap_index = {
            f'block{first + i}': i
            for i in range(len(self.gcn))
        }
        self.available_taps = tuple(self._tap_index) + ('final', )
        self.set_taps(out_taps)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()

    def _tap_table(self) -> Dict[str, TapInfo]:
        # the parent's channel/stride schedule, recomputed from its config
        num_joints = self.graph.A.shape[-1]
        table, strides, inflate = {}, (), 0
        for name in self.available_taps[:-1]:
            i = int(name[5:])
            if i > 1 and i in self.inflate_stages:
                inflate += 1
            stride = 2 if i > 1 and i in self.down_stages else 1
            strides = strides + (stride, )
            # AAGCN has no ch_ratio: it doubles at inflate_stages
            ratio = getattr(self, 'ch_ratio', 2)
            channels = int(self.base_channels * ratio**inflate + 1e-6)
            table[name] = TapInfo(channels, strides, 'NMCTV', num_joints)
        table['final'] = table[name]
        return table

    def _stage_modules(self) -> list:
        return [self.data_bn, *self.gcn]

    def forward(self,
                x: torch.Tensor,
                taps: Optional[Sequence[str]] = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict]]:
        """Forward.

        Args:
            x (torch.Tensor): ``(N, M, T, V, C)``.
            taps (Sequence[str], optional): Taps to return; ``None`` uses the
                configured ``out_taps``.

        Returns:
            torch.Tensor or tuple: ``(N, M, C', T', V)``, plus a dict of the
            requested taps when any are requested.
        """
        taps = self._check_taps(self.out_taps if taps is None else taps)
        if not taps:
            return super().forward(x)
        N, M = x.shape[:2]
        out: Dict[str, torch.Tensor] = {}

        def recorder(name):

            def hook(module, args, output):
                out[name] = output.reshape((N, M) + output.shape[1:])

            return hook

        handles = [
            self.gcn[self._tap_index[name]].register_forward_hook(
                recorder(name)) for name in taps if name != 'final'
        ]
        try:
            feats = super().forward(x)
        finally:
            for handle in handles:
                handle.remove()
        if 'final' in taps:
            out['final'] = feats
        return feats, out


def named_layout(graph_cfg: dict) -> dict:
    """``graph_cfg`` with a layout name MMAction2's ``Graph`` does not know
    but this project registers (``'nwucla'``, ``'nturgb+d_agcn'``) replaced
    by its ``num_node`` / ``inward`` / ``center`` dict; otherwise unchanged.
    """
    layout = graph_cfg.get('layout')
    if isinstance(layout, str) and layout in EXTRA_LAYOUTS:
        layout = EXTRA_LAYOUTS[layout]
        graph_cfg = dict(graph_cfg, layout=dict(
            layout, inward=list(layout['inward'])))
    return graph_cfg


class _MMAction2Taps(BlockTapMixin):
    """Constructor shared by the taps wrappers of MMAction2's encoders:
    the project's layout names in ``graph_cfg``, then the encoder's own
    arguments, then the taps of :class:`BlockTapMixin`."""

    def __init__(self,
                 *args,
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 **kwargs) -> None:
        if 'graph_cfg' in kwargs:
            kwargs['graph_cfg'] = named_layout(kwargs['graph_cfg'])
        elif args:  # graph_cfg given positionally
            args = (named_layout(args[0]), ) + tuple(args[1:])
        super().__init__(*args, **kwargs)
        self._init_block_taps(out_taps, frozen_stages, norm_eval)


@MODELS.register_module()
class STGCNTaps(_MMAction2Taps, STGCN):
    """MMAction2's :class:`STGCN` (ST-GCN, and ST-GCN++ with
    ``gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn'``) with the
    taps of :class:`BlockTapMixin`. ``graph_cfg.layout`` also takes the
    project's layout names (``'nwucla'``).

    Args:
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): See :class:`BlockTapMixin`.
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        **kwargs: :class:`STGCN` arguments.
    """


@MODELS.register_module()
class AAGCNTaps(_MMAction2Taps, AAGCN):
    """MMAction2's :class:`AAGCN` (2s-AGCN with attention) with the taps of
    :class:`BlockTapMixin`. ``graph_cfg.layout`` also takes the project's
    layout names (``'nwucla'``).

    Args:
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): See :class:`BlockTapMixin`.
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        **kwargs: :class:`AAGCN` arguments.
    """
