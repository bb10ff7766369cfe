"""Deterministic coordinate normalisation (NW-UCLA / NTU CTR-GCN feeders,
InfoGCN's body alignment).

Person-frames whose joints are all zero are padding (or no detection) in
the NTU/CTR-GCN convention; the transforms leave them at zero and keep
them out of their statistics. The input arrays are never written to.
"""
from typing import Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ._utils import check_keypoint, float_array, valid_person_frames


@TRANSFORMS.register_module()
class CenterJoint(BaseTransform):
    """Translate the sequence so that one joint of one frame is the origin.

    The centre is ``keypoint[person, t, joint]`` with ``t`` the first frame
    at or after ``frame`` in which ``person`` is not all zero; it is
    subtracted from every person and frame. With the defaults this is

    * NW-UCLA (``feeder_ucla``): ``value - value[0, 1]``, joint 1 (spine)
      of frame 0;
    * NTU (SGN/CTR-GCN ``seq_transformation``): joint 1 (index 1, "joint-2"
      1-based) of the first frame where actor 1 appears; padding re-zeroed.

    Required Keys:

        - keypoint (M, T, V, C)

    Modified Keys:

        - keypoint (a new float array)

    Args:
        joint (int): Index of the centre joint. Defaults to 1.
        frame (int): First frame to take the centre from. Defaults to 0.
        person (int): Person whose joint is the centre. Defaults to 0.
    """

    def __init__(self, joint: int = 1, frame: int = 0,
                 person: int = 0) -> None:
        self.joint = joint
        self.frame = frame
        self.person = person

    def transform(self, results: Dict) -> Dict:
        """Centre ``results['keypoint']``."""
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        valid = valid_person_frames(keypoint)
        candidates = np.flatnonzero(valid[self.person, self.frame:])
        out = float_array(keypoint)
        if candidates.size == 0:  # nothing but padding: leave as is
            results['keypoint'] = out
            return results
        t = self.frame + candidates[0]
        out -= out[self.person, t, self.joint]
        out[~valid] = 0
        results['keypoint'] = out
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(joint={self.joint}, '
                f'frame={self.frame}, person={self.person})')


@TRANSFORMS.register_module()
class MinMaxNormalize(BaseTransform):
    """Per-channel min-max scaling of the whole sequence to ``[low, high]``.

    As NW-UCLA's feeder: for every channel (x, y, z) the minimum and
    maximum over all joints, frames and persons map to ``low`` and
    ``high``. Padding person-frames are left out of the statistics and stay
    zero. A constant channel (max == min, where the official code divides
    by zero) maps to the middle ``(low + high) / 2``.

    Required Keys:

        - keypoint (M, T, V, C)

    Modified Keys:

        - keypoint (a new float array)

    Args:
        low (float): Value of each channel's minimum. Defaults to -1.
        high (float): Value of each channel's maximum. Defaults to 1.
    """

    def __init__(self, low: float = -1.0, high: float = 1.0) -> None:
        if not low < high:
            raise ValueError(f'need low < high, got {low}, {high}')
        self.low = low
        self.high = high

    def transform(self, results: Dict) -> Dict:
        """Normalise ``results['keypoint']``."""
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        valid = valid_person_frames(keypoint)
        out = float_array(keypoint)
        if not valid.any():
            results['keypoint'] = out
            return results
        points = out[valid]  # (num_valid, V, C)
        lo = points.min(axis=(0, 1))
        span = points.max(axis=(0, 1)) - lo
        unit = np.where(span > 0, (out - lo) / np.where(span > 0, span, 1),
                        0.5)
        out = (unit * (self.high - self.low) + self.low).astype(out.dtype)
        out[~valid] = 0
        results['keypoint'] = out
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(low={self.low}, high={self.high})'


@TRANSFORMS.register_module()
class AlignSkeleton(BaseTransform):
    """Express each person in a body frame taken from one of its frames
    (InfoGCN's released NTU input: ``utils.py`` ``align_skeleton``, whose
    output ``*_aligned.npz`` is what its ``main.py`` loads).

    For person ``m``, from ``keypoint[m, frame]``: ``z`` is the unit spine
    vector ``p[spine[1]] - p[spine[0]]``; ``x`` is the hip vector
    ``p[hip[1]] - p[hip[0]]`` minus its component along ``z``, normalised;
    ``y = x cross z`` (as released, ``np.cross(v2, v1)``, so the basis is
    left-handed: the release mirrors as well as rotates). Every frame ``t``
    of that person becomes ``(x . p_t, y . p_t, z . p_t)`` (the release's
    ``inv([x y z]) @ p_t``; no translation). With the NTU defaults ``z``
    runs from the spine base to the spine and ``x`` from the right to the
    left hip. Place it after ``CenterJoint`` (the release aligns the
    centred ``seq_transformation`` output). All-zero frames stay zero.

    Degenerate persons, as released: a person whose spine vector in
    ``frame`` is zero (a padded slot, or a person absent in that frame) is
    set to zero in every frame (``zero_unaligned=True``; False keeps it
    unrotated). Where the hip vector is zero or parallel to the spine the
    release produces NaN and its feeder drops the whole clip; here that
    person is kept unrotated.

    Required Keys:

        - keypoint (M, T, V, 3)

    Modified Keys:

        - keypoint (a new float array)

    Args:
        frame (int): Frame whose pose defines each person's axes.
            Defaults to 0 (released).
        spine (tuple[int, int]): Joints ``(from, to)`` of the z axis.
            Defaults to (0, 1) (NTU spine base -> spine, released).
        hip (tuple[int, int]): Joints ``(from, to)`` of the x axis.
            Defaults to (16, 12) (NTU right hip -> left hip, released).
        zero_unaligned (bool): Zero a person whose spine vector in
            ``frame`` is zero. Defaults to True (released).
    """

    def __init__(self, frame: int = 0, spine: Tuple[int, int] = (0, 1),
                 hip: Tuple[int, int] = (16, 12),
                 zero_unaligned: bool = True) -> None:
        self.frame = frame
        self.spine = tuple(spine)
        self.hip = tuple(hip)
        self.zero_unaligned = zero_unaligned

    def _axes(self, pose: np.ndarray) -> Optional[np.ndarray]:
        """(3, 3) rows x, y, z from one (V, 3) pose; None if the spine is
        zero, the identity if the hip vector has no part across it."""
        z = pose[self.spine[1]] - pose[self.spine[0]]
        if not np.linalg.norm(z) > 0:
            return None
        z = z / np.linalg.norm(z)
        hip = pose[self.hip[1]] - pose[self.hip[0]]
        x = hip - np.dot(z, hip) * z
        if not np.linalg.norm(x) > 0:
            return np.eye(3)
        x = x / np.linalg.norm(x)
        y = np.cross(x, z)
        return np.stack([x, y / np.linalg.norm(y), z])

    def transform(self, results: Dict) -> Dict:
        """Align ``results['keypoint']``."""
        keypoint = results['keypoint']
        name = type(self).__name__
        check_keypoint(keypoint, name)
        M, T, V, C = keypoint.shape
        if C != 3:
            raise ValueError(f'{name} needs 3D keypoints (C=3), got C={C}')
        if max(self.spine + self.hip) >= V or not 0 <= self.frame < T:
            raise ValueError(
                f'{name}(frame={self.frame}, spine={self.spine}, '
                f'hip={self.hip}) does not fit keypoint of shape '
                f'{keypoint.shape} (M, T, V, C)')
        out = float_array(keypoint)
        for m in range(M):
            axes = self._axes(out[m, self.frame].astype(np.float64))
            if axes is None:
                if self.zero_unaligned:
                    out[m] = 0
                continue
            out[m] = (out[m].astype(np.float64) @ axes.T).astype(out.dtype)
        results['keypoint'] = out
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(frame={self.frame}, '
                f'spine={self.spine}, hip={self.hip}, '
                f'zero_unaligned={self.zero_unaligned})')
