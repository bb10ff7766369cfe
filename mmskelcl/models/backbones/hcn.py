"""HCN (Li et al., IJCAI 2018) as released in huguyuehuhu/HCN-pytorch
``model/HCN.py``: backbone with named taps, and its classifier head.

HCN is a CNN, not a GCN. Each person's clip goes through two streams with
the same structure, one on the input coordinates (``joint``) and one on
their temporal difference (``motion``, resized back to ``T`` frames):
``conv1`` (1x1) and ``conv2`` (3x1 temporal) act per joint; then the
joints are *transposed into channels* (``(N, V, T, C2)``), so ``conv3`` /
``conv4`` (3x3) learn co-occurrences of all joints over time and over
``conv2``'s channels. The two streams are concatenated, ``conv5`` /
``conv6`` follow, each 3x3 conv with 2x2 max-pooling. :class:`HCNHead`
max-fuses the persons, flattens, and applies ``fc7`` (512) and the
classifier ``fc8``.

Stream files: HCN's two streams are *internal*: one model reads one input
stream and derives its own motion from it. ``hcn_j`` is the released HCN
(coordinates + their motion; the "2S" cell of the CSRE tables); ``hcn_b``,
``hcn_jm`` and ``hcn_bm`` feed the same network bone vectors, joint motion
or bone motion (the internal motion stream is then bone motion, joint
acceleration or bone acceleration), for four-stream ensembling like the
GCN encoders; they are not in the HCN or CSRE papers.

CSRE's "spatial" axis (csre.md 2.6): after the transpose there is no joint
axis. The ``'final'`` tap is **option A**, the ``conv6`` map of every
person before the person max-fusion, ``(N, M, 4C, T/16, C2/16)``, its last
axis (``conv2``'s channels pooled four times, 2 for the released 32-frame
model) standing in for "spatial": it is the map the classifier reads, in
both streams and after the co-occurrence layers, as ``'final'`` is for
every other encoder, so the contrastive loss shapes the classifier's
features. **Option B**, the joint stream's ``conv2`` output
``(N, M, C2, T, V)`` with true joints, is the tap ``'conv2'`` (a CSRE head
given ``taps=('conv2', )`` uses it); it sees only the first two layers of
one stream.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import build_graph
from ..utils.block_stack import ReleasedInitMixin
from ..utils.freeze import FreezeMixin
from ..utils.taps import TapInfo, TapMixin

STREAMS = ('joint', 'motion')


def _pair(make) -> nn.ModuleDict:
    return nn.ModuleDict({s: make() for s in STREAMS})


@MODELS.register_module()
class HCN(ReleasedInitMixin, FreezeMixin, TapMixin, BaseModule):
    """HCN backbone: everything up to the person fusion.

    Input ``(N, M, T, V, C)``; output the ``conv6`` map of every person,
    ``(N, M, 4 * base_channels, T // 16, conv2_channels // 16)``.

    Taps (``(N, M, C, T, V)``; ``V`` is joints only for ``conv2*``):
    ``'conv2'`` / ``'conv2m'`` (joint / motion stream after ``conv2``,
    ``(C2, T, V)``), ``'conv4'`` (both streams' ``conv4`` concatenated,
    ``(2C, T/4, C2/4)``), ``'conv5'`` (``(2C, T/8, C2/8)``) and ``'final'``
    (``conv6``, the output). Pooling floors, so ``T/16`` is ``T // 16``.

    Args:
        graph_cfg (dict): Only the layout's joint count is used (``conv3``
            reads the joints as channels).
        in_channels (int): Input channels.
        num_person (int): Persons per sample (checked; fused by the head).
        base_channels (int): ``conv1`` / ``conv4`` channels (released 64).
        conv2_channels (int): ``conv2`` channels, the width of the
            co-occurrence maps. The released code sets it to the window
            size (32 in its 32-frame runs, as the paper's 32).
        dropout (float): ``Dropout2d`` after ``conv4``, ``conv5``,
            ``conv6``.
        out_taps (Sequence[str]): Taps returned by default.
        frozen_stages (int): ``-1`` none; ``i`` freezes the first ``i`` of
            ``conv1`` .. ``conv6`` (both streams of ``conv1``-``conv4``);
            ``0`` the (parameter-free) stem.
        norm_eval (bool): Kept for the common interface (HCN has no BN).
        init_cfg (dict or list[dict], optional): When ``None`` the released
            initialisation: Xavier-uniform convolutions, zero biases.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 base_channels: int = 64,
                 conv2_channels: int = 32,
                 dropout: float = 0.5,
                 out_taps: Sequence[str] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_joints = build_graph(graph_cfg).A.shape[-1]
        self.num_person = num_person
        self.base_channels = base_channels
        self.conv2_channels = conv2_channels
        c, c2, v = base_channels, conv2_channels, self.num_joints
        self.stem = nn.Identity()
        self.conv1 = _pair(lambda: nn.Conv2d(in_channels, c, 1))
        self.conv2 = _pair(lambda: nn.Conv2d(c, c2, (3, 1), padding=(1, 0)))
        self.conv3 = _pair(lambda: nn.Conv2d(v, c // 2, 3, padding=1))
        self.conv4 = _pair(lambda: nn.Conv2d(c // 2, c, 3, padding=1))
        self.conv5 = nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        self.conv6 = nn.Conv2d(2 * c, 4 * c, 3, padding=1)
        self.drop = nn.Dropout2d(dropout)
        self.pool = nn.MaxPool2d(2)
        self.out_channels = 4 * c
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()
        self.available_taps = ('conv2', 'conv2m', 'conv4', 'conv5', 'final')
        self.set_taps(out_taps)
        if init_cfg is None:
            self.released_init()

    def released_init(self) -> None:
        """``utils.initial_model_weight`` of the release: uniform
        ``+-sqrt(6 / (fan_in + fan_out))`` (Xavier) weights, zero bias."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def _tap_table(self) -> Dict[str, TapInfo]:
        c, c2, v = self.base_channels, self.conv2_channels, self.num_joints

        def info(channels, pools, width):
            return TapInfo(channels, (2, ) * pools, 'NMCTV', width,
                           ceil_mode=False)

        return dict(conv2=info(c2, 0, v), conv2m=info(c2, 0, v),
                    conv4=info(2 * c, 2, c2 // 4),
                    conv5=info(2 * c, 3, c2 // 8),
                    final=info(4 * c, 4, c2 // 16))

    def _stage_modules(self) -> List[nn.Module]:
        return [self.stem, self.conv1, self.conv2, self.conv3, self.conv4,
                self.conv5, self.conv6]

    def _stream(self, x: torch.Tensor, s: str) -> Tuple[torch.Tensor, ...]:
        """One stream to ``conv4``; returns ``(conv2 map, conv4 map)``."""
        point = self.conv2[s](F.relu(self.conv1[s](x)))  # (NM, C2, T, V)
        y = point.permute(0, 3, 2, 1)  # joints into channels: (NM, V, T, C2)
        y = self.pool(self.conv3[s](y))
        y = self.pool(self.drop(self.conv4[s](y)))
        return point, y

    def forward(self,
                x: torch.Tensor,
                taps: Optional[Sequence[str]] = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict]]:
        """Forward.

        Args:
            x (torch.Tensor): ``(N, M, T, V, C)``, ``T >= 16``.
            taps (Sequence[str], optional): Taps to return; ``None`` uses
                the configured ``out_taps``.

        Returns:
            torch.Tensor or tuple: ``(N, M, 4C, T // 16, C2 // 16)``, plus
            a dict of the requested taps when any are requested.
        """
        taps = self._check_taps(self.out_taps if taps is None else taps)
        N, M, T, V, C = x.shape
        if M != self.num_person or V != self.num_joints or T < 16:
            raise ValueError(
                f'HCN was built for {self.num_person} person(s), '
                f'{self.num_joints} joints and needs >= 16 frames; got input '
                f'(N, M, T, V, C) = {tuple(x.shape)}')
        x = x.permute(0, 1, 4, 2, 3).reshape(N * M, C, T, V)
        # released: frame differences resized back to T frames (bilinear)
        motion = F.interpolate(x[:, :, 1:] - x[:, :, :-1], size=(T, V),
                               mode='bilinear', align_corners=False)
        point_j, y_j = self._stream(x, 'joint')
        point_m, y_m = self._stream(motion, 'motion')
        y = torch.cat((y_j, y_m), dim=1)
        out = dict(conv2=point_j, conv2m=point_m, conv4=y)
        y = self.pool(self.drop(F.relu(self.conv5(y))))
        out['conv5'] = y
        y = self.pool(self.drop(F.relu(self.conv6(y))))
        y = y.view(N, M, *y.shape[1:])
        out = {k: v.view(N, M, *v.shape[1:]) for k, v in out.items()
               if k in taps}
        if 'final' in taps:
            out['final'] = y
        return (y, out) if taps else y


@MODELS.register_module()
class HCNHead(BaseHead):
    """HCN's classifier: max over persons, flatten, ``fc7`` + ReLU +
    dropout, ``fc`` (the released ``fc8``).

    Args:
        num_classes (int): Classes.
        in_channels (int): Flattened size of one person's ``conv6`` map,
            ``4C * (T // 16) * (C2 // 16)`` (1024 for the released
            32-frame model).
        hidden_channels (int): ``fc7`` width (released 512).
        dropout (float): Dropout after ``fc7`` (the release's
            ``Dropout2d`` on a 2-D tensor, element-wise in PyTorch 0.4).
        average_clips (str): How test clips are fused (as ``GCNHead``).
        init_cfg (dict): Released: Xavier-uniform weights, zero biases.
        **kwargs: :class:`BaseHead` arguments (``loss_cls``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 hidden_channels: int = 512,
                 dropout: float = 0.5,
                 average_clips: str = 'prob',
                 init_cfg: Union[Dict, List[Dict]] = dict(
                     type='Xavier', layer='Linear', distribution='uniform'),
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, init_cfg=init_cfg,
                         average_clips=average_clips, **kwargs)
        self.fc7 = nn.Linear(in_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_channels, num_classes)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """``(N, M, C, T', V')`` -> class scores ``(N, num_classes)``."""
        x = x.amax(dim=1).flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'HCNHead(in_channels={self.in_channels}) got {x.shape[1]} '
                f'features per person; set in_channels = channels x '
                f'(clip_len // 16) x (conv2_channels // 16)')
        return self.fc(self.dropout(F.relu(self.fc7(x))))
