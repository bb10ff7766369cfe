"""FR-Head: multi-level spatial-temporal decoupling + contrastive feature
refinement (Zhou et al., CVPR 2023), as a training-only auxiliary head."""
import math
import warnings
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..utils.taps import TapInfo
from .base_aux_head import BaseAuxHead, current_epoch

#: The paper's tap points on a 10-block GCN (CTR-GCN, MMAction2's ST-GCN,
#: ST-GCN++ and AAGCN): after blocks 1, 5, 8 and 10, with the weights
#: lambda of Eq. 1. Channels, frames and joints come from the backbone's
#: published taps.
DEFAULT_STAGES = (
    ('block1', dict(weight=0.1)),
    ('block5', dict(weight=0.2)),
    ('block8', dict(weight=0.5)),
    ('block10', dict(weight=1.0)),
)
DECOUPLE_MODES = ('st', 'spatial', 'temporal', 'none')


def _squeeze(in_channels: int, out_channels: int) -> nn.Sequential:
    """1x1 conv (with bias) + BN + ReLU, as released."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class FRStage(BaseModule):
    """ST decoupling and CFR at one tapped stage (released
    ``ST_RenovateNet``).

    The tap ``(N, M, C, T, V)`` is averaged over persons. Spatial branch:
    mean over T, 1x1 conv ``C -> C_h // V`` + BN + ReLU, flatten to
    ``(C_h // V) * V``. Temporal branch: mean over V, 1x1 conv
    ``C -> C_h // T`` + BN + ReLU, flatten to ``(C_h // T) * T``. Each branch
    has its own :class:`CFRLoss` (``cl_fc`` to ``C_h`` and prototypes); the
    stage loss is their sum (Eq. 2). ``mode='none'`` (Table 1's "+CL Loss"
    and "+ML Refine") applies one CFR to the globally pooled ``(N, C)``
    feature with ``C_h = pooled_hidden_channels`` (default ``C``).

    Args:
        in_channels (int): Channels ``C`` of the tap.
        num_frames (int): Frames ``T`` of the tap.
        num_joints (int): Joints ``V``.
        num_classes (int): Classes of the prototypes.
        hidden_channels (int): ``C_h``.
        mode (str): ``'st'``, ``'spatial'``, ``'temporal'`` or ``'none'``.
        pooled_hidden_channels (int, optional): ``C_h`` of mode ``'none'``.
        cfr (dict, optional): Extra :class:`CFRLoss` arguments.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 num_frames: int,
                 num_joints: int,
                 num_classes: int,
                 hidden_channels: int = 256,
                 mode: str = 'st',
                 pooled_hidden_channels: Optional[int] = None,
                 cfr: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in DECOUPLE_MODES:
            raise ValueError(f'decouple mode must be one of {DECOUPLE_MODES}'
                             f', got {mode!r}')
        self.in_channels = in_channels
        self.num_frames = num_frames
        self.num_joints = num_joints
        self.mode = mode
        self.squeeze = nn.ModuleDict()
        widths = {}
        if mode == 'none':
            widths['pooled'] = (in_channels, pooled_hidden_channels
                                or in_channels)
        for branch, size in (('spatial', num_joints), ('temporal',
                                                       num_frames)):
            if mode not in ('st', branch):
                continue
            width = hidden_channels // size
            if width < 1:
                warnings.warn(f'FR-Head {branch} branch: {size} > C_h='
                              f'{hidden_channels}; using 1 channel')
                width = 1
            self.squeeze[branch] = _squeeze(in_channels, width)
            widths[branch] = (width * size, hidden_channels)
        self.cfr = nn.ModuleDict({
            branch: MODELS.build(
                dict(type='CFRLoss', in_channels=d_in, hidden_channels=h,
                     num_classes=num_classes, **(cfr or {})))
            for branch, (d_in, h) in widths.items()
        })

    def features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Branch features ``{branch: (N, D_in)}`` of a tap ``(N, M, C, T,
        V)``."""
        expected = (self.in_channels, self.num_frames, self.num_joints)
        if x.dim() != 5 or tuple(x.shape[2:]) != expected:
            raise ValueError(
                f'FR-Head stage built for (C, T, V) = {expected} got a tap '
                f'of shape {tuple(x.shape)} (N, M, C, T, V): set the head\'s '
                'num_frames / num_joints / stage in_channels and '
                'temporal_stride to the backbone\'s')
        # the mean over persons and then time (joints) of the released code,
        # as one reduction: no (N, C, T, V) person mean is materialised
        out = {}
        if 'pooled' in self.cfr:
            out['pooled'] = x.mean(dim=(1, 3, 4))
        if 'spatial' in self.squeeze:
            out['spatial'] = self.squeeze['spatial'](x.mean(
                dim=(1, 3)).unsqueeze(2)).flatten(1)
        if 'temporal' in self.squeeze:
            out['temporal'] = self.squeeze['temporal'](x.mean(
                dim=(1, 4)).unsqueeze(3)).flatten(1)
        return out

    def forward(self,
                x: torch.Tensor,
                logits: torch.Tensor,
                labels: torch.Tensor,
                masks: Optional[Tuple[torch.Tensor, ...]] = None,
                active: bool = True) -> torch.Tensor:
        """The stage loss ``CL(F_s) + CL(F_t)`` (unweighted); ``masks`` and
        ``active`` as in :meth:`CFRLoss.forward`."""
        feats = self.features(x)
        return sum(
            self.cfr[b](f, logits, labels, masks=masks, active=active)
            for b, f in feats.items())


@MODELS.register_module()
class FRHead(BaseAuxHead):
    """FR-Head (CVPR'23): training-only multi-level feature refinement.

    Taps several backbone stages (default blocks 1, 5, 8, 10 of a 10-block
    GCN), applies :class:`FRStage` to each and returns one loss per stage,
    ``{loss_name}_{tap} = loss_weight * weight_tap * L_tap`` (Eqs. 1, 10:
    their sum, added to ``loss_cls`` by mmengine, is ``w_cl * L_CL``).

    Stage sizes are fixed at build time from the backbone's published taps
    (``tap_info``, handed over by :class:`AuxRecognizerGCN` for its
    ``num_frames``): channels ``C_i``, frames ``T_i`` (NW-UCLA 52 -> 26 ->
    13) and joints ``V``; a tap of another shape raises with a message,
    never a silent reshape. A stage may override its sizes
    (``in_channels``, ``temporal_stride`` with ``num_frames``:
    ``T_i = ceil(num_frames / temporal_stride_i)``).

    Args:
        num_classes (int): Classes (prototypes per CFR; the cls head's,
            given by the recognizer).
        num_frames (int, optional): Input frames of the backbone (the clip
            length); by default the frames of the published taps.
        num_joints (int, optional): Joints; by default the taps'.
        stages (dict[str, dict], optional): Tap name -> ``dict(weight)``
            plus optional size overrides ``in_channels``,
            ``temporal_stride``. Defaults to :data:`DEFAULT_STAGES`.
        taps (Sequence[str], optional): The stages used (a subset of
            ``stages``, e.g. ``('block10',)`` for the single-level
            ablation). Defaults to all of ``stages``.
        loss_weight (float): ``w_cl``. Defaults to 0.1.
        hidden_channels (int): ``C_h``. Defaults to 256.
        decouple (bool | str): ``True`` = ``'st'``; ``False`` = ``'none'``
            (no decoupling: CFR on the pooled stage feature); or
            ``'spatial'`` / ``'temporal'`` (one branch).
        pooled_hidden_channels (int, optional): ``C_h`` without decoupling
            (default: the stage's channels, which matches Table 1's
            parameter counts).
        cfr (dict, optional): :class:`CFRLoss` arguments (``version``,
            ``temperature``, ``alpha``, ``momentum``, ``pred_threshold``,
            ``use_fn``, ``use_fp``, ``use_p_map``, ``proto_grad``,
            ``center_grad``, ``unseen``).
        start_epoch (int): 0-based epoch from which the losses count
            (released ``start_cl_epoch + 1``); before it they are zero.
        update_before_start (bool): Before ``start_epoch``, still run the
            head so that the prototypes and the stage BN statistics update
            every step (released: its heads run from the first step and
            only the addition of the loss waits). ``False``: the head does
            not run at all before ``start_epoch``.
        loss_name (str): Prefix of the logged losses.
        tap_info (dict, optional): The backbone's taps (from the
            recognizer).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 num_classes: int,
                 num_frames: Optional[int] = None,
                 num_joints: Optional[int] = None,
                 stages: Optional[Mapping[str, dict]] = None,
                 taps: Optional[Sequence[str]] = None,
                 loss_weight: float = 0.1,
                 hidden_channels: int = 256,
                 decouple: Union[bool, str] = True,
                 pooled_hidden_channels: Optional[int] = None,
                 cfr: Optional[dict] = None,
                 start_epoch: int = 0,
                 update_before_start: bool = True,
                 loss_name: str = 'loss_cfr',
                 tap_info: Optional[Mapping[str, TapInfo]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        stages = dict(DEFAULT_STAGES if stages is None else stages)
        taps = tuple(stages if taps is None else taps)
        unknown = [t for t in taps if t not in stages]
        if unknown or not taps:
            raise ValueError(f'FRHead taps {list(taps)} must be a non-empty '
                             f'subset of the stages {list(stages)}')
        if tap_info:
            # the backbone's order, not the config's: a dumped config sorts
            # its keys, and the stages draw their init in build order
            taps = tuple(sorted(taps, key=list(tap_info).index)) if all(
                t in tap_info for t in taps) else taps
        super().__init__(required_taps=taps, tap_info=tap_info,
                         init_cfg=init_cfg)
        mode = {True: 'st', False: 'none'}.get(decouple, decouple)
        self.loss_weight = loss_weight
        self.start_epoch = start_epoch
        self.update_before_start = update_before_start
        self.loss_name = loss_name
        self.stage_weights = {}
        self.stages = nn.ModuleDict()
        for tap in taps:
            spec = dict(stages[tap])
            if 'weight' not in spec:
                raise ValueError(f'FRHead stage {tap!r} lacks its weight')
            self.stage_weights[tap] = float(spec['weight'])
            channels, frames, joints = self._stage_size(
                tap, spec, num_frames, num_joints)
            self.stages[tap] = FRStage(
                in_channels=channels,
                num_frames=frames,
                num_joints=joints,
                num_classes=num_classes,
                hidden_channels=hidden_channels,
                mode=mode,
                pooled_hidden_channels=pooled_hidden_channels,
                cfr=cfr)

    def _stage_size(self, tap: str, spec: dict, num_frames: Optional[int],
                    num_joints: Optional[int]) -> Tuple[int, int, int]:
        """``(C, T, V)`` of a stage: overrides first, then the tap."""
        if {'in_channels', 'temporal_stride'} <= set(spec) and \
                num_frames is not None and num_joints is not None:
            return (spec['in_channels'],
                    math.ceil(num_frames / spec['temporal_stride']),
                    num_joints)
        info = self.tap(tap, 'channels, frames and joints')
        if 'temporal_stride' in spec:
            if num_frames is None:
                raise ValueError(f'FRHead stage {tap!r} sets temporal_stride'
                                 ' but the head has no num_frames')
            frames = math.ceil(num_frames / spec['temporal_stride'])
        elif num_frames is not None:
            frames = info.frames(num_frames)
        elif info.num_frames is not None:
            frames = info.num_frames
        else:
            raise ValueError(
                'FRHead needs the clip length: set the recognizer\'s '
                'num_frames (model.num_frames = the pipeline\'s clip_len)')
        if info.layout != 'NMCTV':
            raise ValueError(f'FRHead stage {tap!r}: tap layout '
                             f'{info.layout}, expected NMCTV')
        return (spec.get('in_channels', info.channels), frames,
                num_joints or info.num_joints)

    def loss(self, taps: Dict[str, torch.Tensor], logits: torch.Tensor,
             labels: torch.Tensor, sample_idx: Optional[torch.Tensor] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """One weighted loss per tapped stage (see the class doc)."""
        names = {tap: f'{self.loss_name}_{tap}' for tap in self.stages}
        active = current_epoch() >= self.start_epoch
        if not active and not self.update_before_start:
            # nothing runs; zero losses tied to every parameter (DDP-safe)
            zero = sum(p.sum() for p in self.parameters()) * 0
            return {name: zero for name in names.values()}
        logits = logits.detach()
        # the TP/FN/FP masks depend on the logits only: once for all CFRs
        first = next(iter(next(iter(self.stages.values())).cfr.values()))
        masks = first.masks(logits, labels, torch.float32)
        return {
            names[tap]: self.loss_weight * self.stage_weights[tap] *
            stage(taps[tap], logits, labels, masks=masks, active=active)
            for tap, stage in self.stages.items()
        }
