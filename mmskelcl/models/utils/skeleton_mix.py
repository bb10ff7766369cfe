"""Batch-level skeleton mixing (SkeAttnCLR's extra augmentation) and the
in-model joint / bone / motion conversion of self-supervised pretraining.

Both work on batches ``(N, M, T, V, C)`` (MMAction2's GCN layout) on the
model's device, after the per-sample augmentations of the pipeline.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...structures.layouts import bone_pairs

# SkeAttnCLR's five semantic NTU body parts (``ske_swap``), 0-based joints:
# trunk, left hand, right hand, left leg, right leg.
NTU_BODY_PARTS = ((3, 2, 20, 1, 0), (8, 9, 10, 11, 23, 24),
                  (4, 5, 6, 7, 21, 22), (16, 17, 18, 19), (12, 13, 14, 15))
MIX_MODES = ('swap', 'zeros', 'gaussian', 'none')
SPATIAL_MODES = ('semantic', 'random')
STREAM_ALIASES = {'j': 'j', 'b': 'b', 'm': 'jm', 'jm': 'jm', 'bm': 'bm'}


def convert_stream(x: torch.Tensor, stream: str,
                   layout: str = 'nturgb+d') -> torch.Tensor:
    """Joint coordinates to the ``stream`` of the same shape.

    ``'b'``: ``x[v] - x[parent(v)]`` with the layout's bone pairs (the
    root's bone is zero; MMAction2's ``JointToBone``). ``'m'``/``'jm'``:
    ``x[t + 1] - x[t]``, last frame zero (``ToMotion``). ``'bm'``: motion
    of the bones.

    Args:
        x (Tensor): ``(N, M, T, V, C)`` joints.
        stream (str): ``'j'``, ``'b'``, ``'m'`` (= ``'jm'``) or ``'bm'``.
        layout (str): Layout name of :mod:`mmskelcl.structures.layouts`.

    Returns:
        Tensor: ``(N, M, T, V, C)``.
    """
    if stream not in STREAM_ALIASES:
        raise ValueError(f'stream must be one of {sorted(STREAM_ALIASES)}, '
                         f'got {stream!r}')
    stream = STREAM_ALIASES[stream]
    if stream in ('b', 'bm'):
        child, parent = torch.tensor(bone_pairs(layout),
                                     device=x.device).T
        bones = torch.zeros_like(x)
        bones[..., child, :] = x[..., child, :] - x[..., parent, :]
        x = bones
    if stream in ('jm', 'bm'):
        motion = torch.zeros_like(x)
        motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
        x = motion
    return x


@MODELS.register_module()
class SkeletonPartMix(BaseModule):
    """Replace one body-part x time region of every sample (``ske_swap``).

    One region is drawn per batch and shared by all samples:

    * joints: the union of ``Cs ~ U{num_parts}`` of ``parts``
      (``spatial_mode='semantic'``) or ``U{num_random_joints}`` joints drawn
      uniformly (``'random'``);
    * frames: ``Ct ~ U{temporal_units}`` units of ``unit`` frames starting at
      unit ``s ~ U{0 .. T // unit - Ct}``, i.e. frames
      ``[unit * s, unit * (s + Ct))``, aligned with the ST-GCN feature grid
      when ``unit`` is the backbone's temporal stride (4).

    The region is filled from the partner ``(i + n) mod N`` with
    ``n ~ U{1 .. max(1, N - 2)}`` (``'swap'``; a batch of one swaps with
    itself, i.e. is unchanged), with zeros (``'zeros'``), with ``N(0, 1)``
    noise (``'gaussian'``), or left alone (``'none'``). Every person and
    channel of the region is replaced. Ranges are inclusive.

    Args:
        parts (Sequence[Sequence[int]], optional): Body parts (0-based
            joints). Defaults to the five NTU parts of SkeAttnCLR.
        num_parts (tuple[int, int]): Range of the number of parts.
            Defaults to (3, 4).
        num_random_joints (tuple[int, int]): Joint-count range of
            ``'random'``. Defaults to (10, 15).
        temporal_units (tuple[int, int]): Range of the number of units.
            Defaults to (4, 7).
        unit (int): Frames per unit. Defaults to 4.
        mode (str): One of ``MIX_MODES``. Defaults to ``'swap'``.
        spatial_mode (str): ``'semantic'`` or ``'random'``.
    """

    def __init__(self,
                 parts: Optional[Sequence[Sequence[int]]] = None,
                 num_parts: Tuple[int, int] = (3, 4),
                 num_random_joints: Tuple[int, int] = (10, 15),
                 temporal_units: Tuple[int, int] = (4, 7),
                 unit: int = 4,
                 mode: str = 'swap',
                 spatial_mode: str = 'semantic',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in MIX_MODES:
            raise ValueError(f'mode must be one of {MIX_MODES}, got {mode!r}')
        if spatial_mode not in SPATIAL_MODES:
            raise ValueError(f'spatial_mode must be one of {SPATIAL_MODES}, '
                             f'got {spatial_mode!r}')
        self.parts = tuple(tuple(p) for p in (parts or NTU_BODY_PARTS))
        for name, (lo, hi) in (('num_parts', num_parts),
                               ('temporal_units', temporal_units),
                               ('num_random_joints', num_random_joints)):
            if not 1 <= lo <= hi:
                raise ValueError(f'{name} must be (low, high) with '
                                 f'1 <= low <= high, got {(lo, hi)}')
        if num_parts[1] > len(self.parts):
            raise ValueError(f'num_parts {num_parts} exceeds the '
                             f'{len(self.parts)} parts given')
        self.num_parts = tuple(num_parts)
        self.num_random_joints = tuple(num_random_joints)
        self.temporal_units = tuple(temporal_units)
        self.unit = unit
        self.mode = mode
        self.spatial_mode = spatial_mode

    @staticmethod
    def _randint(low: int, high: int) -> int:
        """Uniform on ``{low .. high}`` (inclusive) from torch's RNG."""
        return int(torch.randint(low, high + 1, ()).item())

    def sample_region(self, num_frames: int,
                      num_joints: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw ``(frames, joints)``: the 1-D index tensors of the region."""
        if self.spatial_mode == 'semantic':
            if max(max(p) for p in self.parts) >= num_joints:
                raise ValueError(f'SkeletonPartMix parts index joints beyond '
                                 f'V={num_joints}: give `parts` for this '
                                 'layout')
            chosen = torch.randperm(len(self.parts))[:self._randint(
                *self.num_parts)]
            joints = sorted(j for i in chosen.tolist() for j in self.parts[i])
            joints = torch.tensor(joints)
        else:
            count = min(self._randint(*self.num_random_joints), num_joints)
            joints = torch.randperm(num_joints)[:count].sort().values
        num_units = num_frames // self.unit
        if num_units < self.temporal_units[0]:
            raise ValueError(f'SkeletonPartMix: {num_frames} frames hold '
                             f'{num_units} units of {self.unit}, fewer than '
                             f'temporal_units {self.temporal_units}')
        length = self._randint(self.temporal_units[0],
                               min(self.temporal_units[1], num_units))
        start = self._randint(0, num_units - length)
        frames = torch.arange(start * self.unit, (start + length) * self.unit)
        return frames, joints

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mix a batch.

        Args:
            x (Tensor): ``(N, M, T, V, C)``.

        Returns:
            tuple: The mixed batch ``(N, M, T, V, C)`` (a new tensor) and the
            boolean region mask ``(T, V)``.
        """
        N, _, T, V, _ = x.shape
        region = torch.zeros(T, V, dtype=torch.bool, device=x.device)
        if self.mode == 'none':
            return x.clone(), region
        frames, joints = self.sample_region(T, V)
        frames, joints = frames.to(x.device), joints.to(x.device)
        region[frames[:, None], joints[None]] = True
        out = x.clone()
        idx = (slice(None), slice(None), frames[:, None], joints[None])
        if self.mode == 'swap':
            shift = self._randint(1, max(1, N - 2)) if N > 1 else 0
            out[idx] = torch.roll(x, -shift, dims=0)[idx]
        elif self.mode == 'zeros':
            out[idx] = 0
        else:
            out[idx] = torch.randn_like(out[idx])
        return out, region
