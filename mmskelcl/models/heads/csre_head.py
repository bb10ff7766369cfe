"""CSRE (Zhang et al., Pattern Recognition 2025): spatial-temporal feature
decomposition contrasted through memory banks, as a training-only head."""
from typing import Dict, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..utils.taps import TapInfo
from .base_aux_head import BaseAuxHead

BRANCHES = ('spatial', 'temporal', 'global')
PERSON_MEANS = ('all', 'valid')


class STFD(BaseModule):
    """Spatial-Temporal Feature Decomposition (released ``STD_unit``).

    On a map ``(N, M, C, T, V)``, per person:

    * spatial: mean over ``T`` -> ``(C, V)``; ``phi`` = a 1x1 Conv1d
      ``C -> C/r`` shared over joints; channel-major flatten ``(C/r * V)``;
      ``sigma`` = a position-specific Linear to ``D``;
    * temporal: mean over ``V`` -> ``(C, T)``; ``theta`` (1x1 Conv1d
      ``C -> C/r``); flatten ``(C/r * T)``; ``zeta`` Linear to ``D``;
    * global (Table 5's GC): mean over ``T, V`` -> ``C``; a Linear to ``D``.

    The module is linear (no BN, activation or dropout), as released; the
    Linears are Kaiming-normal (fan-out) with zero bias, the Conv1d keep
    PyTorch's default init. The projected features are then averaged over
    persons (``person_mean='all'``: every person, the zero-padded second
    person of single-person clips included, as released; ``'valid'``:
    only persons whose input is not all zero).

    Args:
        in_channels (int): ``C``.
        num_frames (int): ``T'`` of the map.
        num_joints (int): ``V`` of the map.
        feat_dim (int): ``D`` (256).
        reduction (int): ``r`` (8).
        branches (Sequence[str]): Subset of :data:`BRANCHES`.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 num_frames: int,
                 num_joints: int,
                 feat_dim: int = 256,
                 reduction: int = 8,
                 branches: Sequence[str] = ('spatial', 'temporal'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        rel = in_channels // reduction
        if rel < 1:
            raise ValueError(f'STFD: C={in_channels} < r={reduction}')
        self.in_channels, self.num_frames = in_channels, num_frames
        self.num_joints = num_joints
        self.reduce = nn.ModuleDict()
        self.proj = nn.ModuleDict()
        sizes = dict(spatial=num_joints, temporal=num_frames)
        for b in branches:
            if b == 'global':
                self.proj[b] = nn.Linear(in_channels, feat_dim)
            else:
                self.reduce[b] = nn.Conv1d(in_channels, rel, 1)
                self.proj[b] = nn.Linear(rel * sizes[b], feat_dim)
        for fc in self.proj.values():
            nn.init.kaiming_normal_(fc.weight, mode='fan_out')
            nn.init.zeros_(fc.bias)

    def forward(self, x: torch.Tensor,
                person_weight: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        """Branch features ``{branch: (N, D)}`` (not normalised).

        Args:
            x (Tensor): ``(N, M, C, T, V)``.
            person_weight (Tensor, optional): ``(N, M)`` weights of the
                person mean (rows sum to 1); ``None`` is the plain mean.
        """
        N, M, C, T, V = x.shape
        if (C, T, V) != (self.in_channels, self.num_frames, self.num_joints):
            raise ValueError(
                f'STFD built for (C, T, V) = ({self.in_channels}, '
                f'{self.num_frames}, {self.num_joints}) got a map of shape '
                f'{tuple(x.shape)}: the head is sized from the backbone taps '
                'and the recognizer\'s num_frames; check model.num_frames')
        x = x.reshape(N * M, C, T, V)
        out = {}
        for b, fc in self.proj.items():
            if b == 'global':
                f = fc(x.mean((2, 3)))
            else:  # spatial: mean over T -> (C, V); temporal: over V
                pooled = x.mean(2) if b == 'spatial' else x.mean(3)
                f = fc(self.reduce[b](pooled).flatten(1))
            f = f.view(N, M, -1)
            out[b] = f.mean(1) if person_weight is None else (
                f * person_weight[..., None]).sum(1)
        return out


@MODELS.register_module()
class CSREHead(BaseAuxHead):
    """CSRE's training-only head: STFD on the encoder's final map, one
    :class:`~mmskelcl.models.memory.BankContrast` per branch.

    Each branch feature is L2-normalised and contrasted through its own
    bank (``loss_csre_<branch>``) with SkeletonGCL's hybrid sampling:
    128 hard positives, 512 hard and 512 random negatives in separate row
    sets, anchors with fewer than 128 positives or 512 negatives skipped,
    batch written before the loss, tau 0.8. ``branches`` selects Table 5's
    variants (``('spatial', )`` SC, ``('temporal', )`` TC, ``('global', )``
    GC, the default SC+TC, all three).

    Args:
        num_classes (int, optional): Unused by the method (accepted from
            the recognizer for a uniform contract).
        tap (str): The encoder's map before pooling (``'final'``).
        branches (Sequence[str]): Branches contrasted.
        feat_dim (int): ``D`` (256).
        reduction (int): ``r`` (8).
        loss_weights (dict[str, float]): ``lambda`` per branch. Default 0.5
            each, the released code (``CE + (L_s + L_t) / 2``): the
            published numbers come from it; the paper's Eq. 10 is 1.0.
        person_mean (str): ``'all'`` (released) or ``'valid'``.
        bank (dict, optional): Bank config shared by the branches.
        sampler (dict, optional): Sampler overrides (on CSRE's defaults).
        loss (dict, optional): Loss overrides (``temperature``).
        fp32_similarity (bool): Bank similarities in float32 under AMP
            (default; False: autocast's dtype, as released), see
            :class:`~mmskelcl.models.memory.BankContrast`.
        tap_info (dict, optional): The backbone's taps (from the
            recognizer).
        init_cfg (dict, optional): mmengine init config.
    """

    #: the released sampling; ``sampler`` overrides single keys
    SAMPLER_DEFAULTS = dict(num_pos=128, num_neg=512, pos_strategy='hard',
                            neg_strategy='R+H', mix_mode='rows',
                            min_pos_policy='skip', min_neg_policy='skip')

    def __init__(self,
                 num_classes: Optional[int] = None,
                 tap: str = 'final',
                 branches: Sequence[str] = ('spatial', 'temporal'),
                 feat_dim: int = 256,
                 reduction: int = 8,
                 loss_weights: Optional[Mapping[str, float]] = None,
                 person_mean: str = 'all',
                 bank: Optional[dict] = None,
                 sampler: Optional[dict] = None,
                 loss: Optional[dict] = None,
                 fp32_similarity: bool = True,
                 tap_info: Optional[Mapping[str, TapInfo]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(required_taps=(tap, ), tap_info=tap_info,
                         init_cfg=init_cfg)
        branches = tuple(branches)
        bad = [b for b in branches if b not in BRANCHES]
        if bad or not branches or len(set(branches)) != len(branches):
            raise ValueError(f'CSRE branches must be a non-empty subset of '
                             f'{BRANCHES}, got {branches}')
        if person_mean not in PERSON_MEANS:
            raise ValueError(f'person_mean must be one of {PERSON_MEANS}, '
                             f'got {person_mean!r}')
        info = self.tap(tap, 'the size of the final map')
        if info.layout != 'NMCTV' or info.num_frames is None:
            raise ValueError(
                f'CSRE reads an (N, M, C, T, V) map with known frames; tap '
                f'{tap!r} is {info.layout} with num_frames={info.num_frames}'
                ' (set model.num_frames to the clip length)')
        self.tap_name, self.person_mean = tap, person_mean
        self.stfd = STFD(info.channels, info.num_frames, info.num_joints,
                         feat_dim, reduction, branches)
        weights = {b: 0.5 for b in branches}
        weights.update(loss_weights or {})
        sampler_cfg = dict(self.SAMPLER_DEFAULTS, **(sampler or {}))
        self.contrast = nn.ModuleDict({
            b: MODELS.build(
                dict(type='BankContrast', dim=feat_dim, bank=bank,
                     sampler=sampler_cfg,
                     loss=dict(temperature=0.8, **(loss or {}),
                               loss_weight=weights[b]),
                     loss_name=f'loss_csre_{b}',
                     fp32_similarity=fp32_similarity))
            for b in branches
        })

    @property
    def needs_sample_idx(self) -> bool:
        return any(u.bank.mode == 'index' for u in self.contrast.values())

    def features(self, taps: Dict[str, torch.Tensor],
                 inputs: Optional[torch.Tensor] = None
                 ) -> Dict[str, torch.Tensor]:
        """L2-normalised branch features ``{branch: (N, D)}``."""
        weight = None
        if self.person_mean == 'valid':
            if inputs is None:
                raise ValueError("person_mean='valid' needs the inputs")
            valid = inputs.flatten(2).abs().sum(-1) > 0  # (N, M)
            valid[valid.sum(1) == 0] = True
            weight = valid.float() / valid.sum(1, keepdim=True)
        feats = self.stfd(taps[self.tap_name], weight)
        return {b: F.normalize(f, dim=1) for b, f in feats.items()}

    def loss(self, taps: Dict[str, torch.Tensor], logits: torch.Tensor,
             labels: torch.Tensor, sample_idx: Optional[torch.Tensor],
             **kwargs) -> Dict[str, torch.Tensor]:
        out = {}
        for b, z in self.features(taps, kwargs.get('inputs')).items():
            out.update(self.contrast[b](z, labels, sample_idx))
        return out

