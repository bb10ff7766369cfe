"""DSTA-Net (Shi et al., ACCV 2020), the "Transformer (DSTA)" encoder of
SkeAttnCLR's Table 2, as a backbone with named taps.

Released code: ``lshiwjx/DSTA-Net`` ``model/dstanet.py``; SkeAttnCLR's copy
(``net/dsta.py``) is the same network with its default switches, the
8-block configuration of its ``__main__`` and 64 frames, which are this
class's defaults:

``(in, out, inter, stride)``: ``(64, 64, 16, 1) x 2, (64, 128, 32, 2),
(128, 128, 32, 1), (128, 256, 64, 2), (256, 256, 64, 1) x 3``

Every person's clip goes through a 1x1 input conv + BN + LeakyReLU(0.1)
and the :class:`~mmskelcl.models.layers.dsta.DSTABlock` stack. The output
``(N, M, 256, T / 4, V)`` is laid out like ST-GCN's, so SkeAttnCLR's neck
reads the same ``T'V`` tokens per person (the release feeds DSTA's map to
the ST-GCN neck) and ``GCNHead`` classifies it.

Differences from the released defaults, all switchable: SkeAttnCLR's copy
leaves temporal attention on (``temporal_att``, ``att_t``), as here;
DSTA-Net's own NTU config turns it off and uses 128 frames. DSTA-Net drops
out the attention maps (``attn_drop``, 0 in both releases); SkeAttnCLR's
copy moved that dropout to a residual (a no-op at 0). The training-time
graph perturbations of SkeAttnCLR's copy (``drop_graph``) are off in its
forward by default and are not built.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..layers.dsta import DSTABlock
from ..utils.block_stack import ReleasedInitMixin
from ..utils.freeze import FreezeMixin
from ..utils.taps import TapInfo, TapMixin, run_blocks

#: SkeAttnCLR's DSTA configuration: (in, out, inter, temporal stride)
DSTA_LAYERS = ((64, 64, 16, 1), (64, 64, 16, 1), (64, 128, 32, 2),
               (128, 128, 32, 1), (128, 256, 64, 2), (256, 256, 64, 1),
               (256, 256, 64, 1), (256, 256, 64, 1))


@MODELS.register_module()
class DSTANet(ReleasedInitMixin, FreezeMixin, TapMixin, BaseModule):
    """DSTA-Net backbone: input map and attention blocks.

    Input ``(N, M, T, V, C)`` with ``T == num_frames``; output
    ``(N, M, C_last, T', V)``, ``T'`` = ``T`` divided by the strides
    (rounded up).

    Taps (``(N, M, C, T, V)``): ``'block<i>'`` after each block (1-based)
    and ``'final'`` (the output).

    Args:
        graph_cfg (dict): Only the layout's joint count is used (the
            attention learns the graph).
        in_channels (int): Input channels.
        num_person (int): Persons per sample (checked).
        num_frames (int): Clip length (sizes the temporal attention maps
            and positional encodings). Released 64 (SkeAttnCLR).
        layers (Sequence[tuple]): ``(in, out, inter, stride)`` per block;
            each ``in`` equals the previous ``out``.
        num_subsets (int): Attention maps per unit (released 3).
        spatial_att, temporal_att, att_s, glo_reg_s (bool): With
            ``att_t``, ``glo_reg_t``, ``use_pes`` and ``use_pet``, the
            :class:`DSTABlock` switches (released: all True except
            ``glo_reg_t``).
        attn_drop (float): Dropout on the attention maps.
        kernel_size (int): Temporal kernel of the strided convolutions.
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): ``-1`` none, ``0`` the input map, ``i`` the
            input map and the first ``i`` blocks.
        norm_eval (bool): Keep every BatchNorm in eval mode in training.
        init_cfg (dict or list[dict], optional): When None, the released
            initialisation: Kaiming-normal (fan_out) conv weights, BN
            weight 1 and bias 0.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 num_frames: int = 64,
                 layers: Sequence[Sequence[int]] = DSTA_LAYERS,
                 num_subsets: int = 3,
                 spatial_att: bool = True,
                 temporal_att: bool = True,
                 att_s: bool = True,
                 glo_reg_s: bool = True,
                 att_t: bool = True,
                 glo_reg_t: bool = False,
                 use_pes: bool = True,
                 use_pet: bool = True,
                 attn_drop: float = 0.,
                 kernel_size: int = 1,
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_joints = build_graph(graph_cfg).A.shape[-1]
        self.num_person, self.num_frames = num_person, num_frames
        self.layer_cfg = tuple(tuple(int(v) for v in layer)
                               for layer in layers)
        for prev, cur in zip(self.layer_cfg, self.layer_cfg[1:]):
            if cur[0] != prev[1]:
                raise ValueError(f'DSTANet layers: a block reads {cur[0]} '
                                 f'channels after one that writes {prev[1]}'
                                 f' ({self.layer_cfg})')
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, self.layer_cfg[0][0], 1),
            nn.BatchNorm2d(self.layer_cfg[0][0]), nn.LeakyReLU(0.1))
        self.blocks = nn.ModuleList()
        frames = num_frames
        for cin, cout, inter, stride in self.layer_cfg:
            self.blocks.append(DSTABlock(
                cin, cout, inter, frames, self.num_joints, stride,
                num_subsets, spatial_att, temporal_att, att_s, glo_reg_s,
                att_t, glo_reg_t, use_pes, use_pet, attn_drop, kernel_size))
            frames = -(-frames // stride)
        self.out_channels = self.layer_cfg[-1][1]
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self._freeze_stages()
        self.available_taps = tuple(
            f'block{i}' for i in range(1, len(self.blocks) + 1)) + ('final', )
        self.set_taps(out_taps)
        if init_cfg is None:
            self.released_init()

    def released_init(self) -> None:
        """Kaiming-normal (fan_out) convolutions (biases as constructed),
        BN weight 1, bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _stage_modules(self) -> List[nn.Module]:
        return [self.stem, *self.blocks]

    def _tap_table(self) -> Dict[str, TapInfo]:
        table, strides = {}, ()
        for i, (_, cout, _, stride) in enumerate(self.layer_cfg, 1):
            strides = strides + (stride, )
            table[f'block{i}'] = TapInfo(cout, strides, 'NMCTV',
                                         self.num_joints)
        table['final'] = table[f'block{len(self.layer_cfg)}']
        return table

    def forward(self,
                x: torch.Tensor,
                taps: Optional[Sequence[str]] = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict]]:
        """Forward.

        Args:
            x (torch.Tensor): ``(N, M, T, V, C)``, ``T == num_frames``.
            taps (Sequence[str], optional): Taps to return; ``None`` uses
                the configured ``out_taps``.

        Returns:
            torch.Tensor or tuple: ``(N, M, C', T', V)``, plus a dict of the
            requested taps when any are requested.
        """
        taps = self._check_taps(self.out_taps if taps is None else taps)
        N, M, T, V, C = x.shape
        if (M, T, V) != (self.num_person, self.num_frames, self.num_joints):
            raise ValueError(
                f'DSTANet was built for (M, T, V) = ({self.num_person}, '
                f'{self.num_frames}, {self.num_joints}) (its temporal '
                f'attention is sized for num_frames); got input (N, M, T, V, '
                f'C) = {tuple(x.shape)}')
        x = x.permute(0, 1, 4, 2, 3).reshape(N * M, C, T, V)
        x, out = run_blocks(self.blocks, self.stem(x), N, M, taps)
        return (x, out) if taps else x
