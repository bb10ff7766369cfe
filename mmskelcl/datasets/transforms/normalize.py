"""Deterministic coordinate normalisation (NW-UCLA / NTU CTR-GCN feeders).

Person-frames whose joints are all zero are padding (or no detection) in
the NTU/CTR-GCN convention; both transforms leave them at zero and keep
them out of their statistics. The input arrays are never written to.
"""
from typing import Dict

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
