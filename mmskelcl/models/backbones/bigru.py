"""BiGRU skeleton encoder (Su et al., "Predict & Cluster", CVPR 2020), as
SkeAttnCLR's Table 2 runs it (released ``net/utils/GRU.py``).

Each frame's joints of all persons are one vector: ``(N, M, T, V, C)`` ->
``(N, T, V * C * M)`` (flattened in the release's ``V, C, M`` order, 150
for NTU's 25 joints x 3 coordinates x 2 persons), batch-normalised per
feature over ``(N, T)``, then ``num_layers`` bidirectional GRU layers of
``hidden_channels`` units per direction; each layer reads the previous
layer's ``2 * hidden_channels`` concatenated outputs. The output is the
whole sequence, ``(N, 1, 2H, T, 1)``: one "person", one "joint", so that
SkeAttnCLR's neck tokenises it like a joint map (``T`` tokens; the released
neck reads the last step, ``AttnMaskNeck(pool='last')``) and ``GCNHead``
classifies it.

``mode`` (the release differs from a textbook BiGRU):

* ``'released'``: the release feeds ``nn.GRU(bidirectional=True)`` one
  frame at a time and carries the hidden state between the calls, so its
  reverse direction also runs *forward in time* (a one-frame sequence
  read backwards is the same frame). Each layer is then two forward GRUs
  on the same input, and the last step has seen the whole clip in both
  halves. Table 2's BIGRU numbers come from this computation; computed here
  with one GRU call per direction and layer (same values, no Python loop).
* ``'bidirectional'``: the reverse direction reads the clip backwards (the
  standard BiGRU; its last step has seen only the last frame in the
  reverse half).

The BiGRU publishes no taps: its features have no joint axis (joints are
flattened into the input vector), which is what the project's auxiliary
heads read.
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..utils.block_stack import ReleasedInitMixin
from ..utils.freeze import FreezeMixin

MODES = ('released', 'bidirectional')
OUTPUTS = ('sequence', 'last')


@MODELS.register_module()
class BiGRU(ReleasedInitMixin, FreezeMixin, BaseModule):
    """Input batch norm + stacked bidirectional GRU layers.

    Args:
        graph_cfg (dict): Only the layout's joint count ``V`` is used.
        in_channels (int): Coordinates per joint ``C``.
        num_person (int): Persons ``M`` (concatenated into the input).
        hidden_channels (int): Units per direction ``H`` (released 1024).
        num_layers (int): GRU layers (released 3).
        mode (str): ``'released'`` or ``'bidirectional'`` (see the module
            docstring).
        output (str): ``'sequence'``: ``(N, 1, 2H, T, 1)``; ``'last'``:
            the last step only, ``(N, 1, 2H, 1, 1)`` (the released linear
            and finetune classifier reads the last step).
        frozen_stages (int): ``-1`` none, ``0`` the input BN, ``i`` the
            input BN and the first ``i`` GRU layers.
        norm_eval (bool): Keep the input BN in eval mode in training.
        init_cfg (dict or list[dict], optional): When None, the released
            initialisation: Xavier-uniform GRU weight matrices (each
            ``(3H, in)`` stack as one matrix), PyTorch's default biases.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 hidden_channels: int = 1024,
                 num_layers: int = 3,
                 mode: str = 'released',
                 output: str = 'sequence',
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in MODES or output not in OUTPUTS:
            raise ValueError(f'mode must be one of {MODES} and output one of '
                             f'{OUTPUTS}, got {mode!r}, {output!r}')
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.num_joints = build_graph(graph_cfg).A.shape[-1]
        self.in_channels, self.num_person = in_channels, num_person
        self.hidden_channels, self.mode, self.output = (hidden_channels,
                                                        mode, output)
        self.out_channels = 2 * hidden_channels
        width = self.num_joints * in_channels * num_person
        self.data_bn = nn.BatchNorm1d(width)
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            size = width if i == 0 else 2 * hidden_channels
            self.layers.append(nn.ModuleDict(dict(
                fwd=nn.GRU(size, hidden_channels, batch_first=True),
                bwd=nn.GRU(size, hidden_channels, batch_first=True))))
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self._freeze_stages()
        if init_cfg is None:
            self.released_init()

    def released_init(self) -> None:
        """Xavier-uniform on every GRU weight matrix (release's
        ``weights_init_gru``)."""
        for layer in self.layers:
            for gru in layer.values():
                for name, p in gru.named_parameters():
                    if name.startswith('weight'):
                        nn.init.xavier_uniform_(p)

    def _stage_modules(self) -> List[nn.Module]:
        return [self.data_bn, *self.layers]

    def _layer(self, layer: nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
        """One layer on ``(N, T, D)`` -> ``(N, T, 2H)``."""
        fwd = layer['fwd'](x)[0]
        if self.mode == 'released':  # both directions run forward in time
            bwd = layer['bwd'](x)[0]
        else:
            bwd = layer['bwd'](x.flip(1))[0].flip(1)
        return torch.cat((fwd, bwd), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forward.

        Args:
            x (torch.Tensor): ``(N, M, T, V, C)``.

        Returns:
            torch.Tensor: ``(N, 1, 2H, T, 1)`` (``output='sequence'``) or
            ``(N, 1, 2H, 1, 1)`` (``'last'``).
        """
        N, M, T, V, C = x.shape
        if (M, V, C) != (self.num_person, self.num_joints, self.in_channels):
            raise ValueError(
                f'BiGRU was built for (M, V, C) = ({self.num_person}, '
                f'{self.num_joints}, {self.in_channels}) (its input vector '
                f'is V * C * M wide); got input (N, M, T, V, C) = '
                f'{tuple(x.shape)}')
        x = x.permute(0, 2, 3, 4, 1).reshape(N, T, V * C * M)
        x = self.data_bn(x.transpose(1, 2)).transpose(1, 2).contiguous()
        for layer in self.layers:
            x = self._layer(layer, x)
        if self.output == 'last':
            x = x[:, -1:]
        return x.transpose(1, 2)[:, None, :, :, None]
