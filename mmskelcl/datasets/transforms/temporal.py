"""Temporal sampling of the CTR-GCN family's feeders.

* :class:`CropResizeFrames` is NTU's ``valid_crop_resize``: it crops and
  *interpolates*, so it replaces ``UniformSampleFrames`` + ``PoseDecode``.
* :class:`RandomSortedSampleFrames` is NW-UCLA's 52-frame sampling; it only
  chooses ``frame_inds``, so ``PoseDecode`` follows it. MMAction2's
  ``UniformSampleFrames`` does not match it (one frame per equal segment,
  and looping rather than repeating when the clip is short).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ._utils import check_keypoint, valid_frames


def resize_linear(array: np.ndarray, length: int,
                  axis: int = 1) -> np.ndarray:
    """Linear interpolation along ``axis`` to ``length`` samples, the same
    as ``torch.nn.functional.interpolate(mode='bilinear',
    align_corners=False)`` along one axis (the official resize)."""
    size = array.shape[axis]
    src = (np.arange(length) + 0.5) * (size / length) - 0.5
    src = np.maximum(src, 0)
    lower = np.minimum(src.astype(np.int64), size - 1)
    upper = np.minimum(lower + 1, size - 1)
    weight = (src - lower).reshape(
        [-1 if i == axis else 1 for i in range(array.ndim)])
    first = np.take(array, lower, axis=axis).astype(np.float64)
    second = np.take(array, upper, axis=axis).astype(np.float64)
    return (first * (1 - weight) + second * weight).astype(np.float32)


@TRANSFORMS.register_module()
class CropResizeFrames(BaseTransform):
    """Crop the valid frames and resize them to ``clip_len`` frames.

    CTR-GCN's ``valid_crop_resize``. Valid frames are those in which some
    person is not all zero; the crop works inside the span from the first
    to the last valid frame (the official code takes the first ``n_valid``
    frames, the same for its trailing zero padding).

    With ``valid_joint=j`` the valid length is SkeAttnCLR's ``get_length``
    instead: the number ``n`` of frames in which joint ``j`` of person 0
    is non-zero, and the crop works inside the first ``n`` frames (the
    release: ``data[:, :n]``; its joint "1" is ``j=0``). It differs from
    the default where person 0 is missing while another person is present.

    * Random crop (``p_interval=(low, high)``): ``p ~ U(low, high)``,
      length ``min(max(floor(n_valid * p), min_frames), n_valid)``, start
      uniform over the positions where it fits.
    * Centre crop (``p_interval`` a single value ``p``, e.g. ``(0.95, )``
      for test): drop ``int((1 - p) * n_valid / 2)`` frames at each end.

    The crop is then linearly interpolated over time to ``clip_len`` frames
    (:func:`resize_linear`), for ``keypoint`` and ``keypoint_score``.
    The result is what ``FormatGCNInput`` expects (no ``PoseDecode``
    after it). ``total_frames`` keeps the original length, as after
    ``PoseDecode``; no ``frame_inds`` is set (the samples are interpolated).

    Required Keys:

        - keypoint (M, T, V, C)
        - keypoint_score (optional, (M, T, V))

    Modified Keys:

        - keypoint (float32, (M, clip_len, V, C))
        - keypoint_score (optional, float32, (M, clip_len, V))

    Added Keys:

        - clip_len
        - num_clips (1)
        - frame_interval (None)

    Args:
        clip_len (int): Output frames (``window_size``). Defaults to 64.
        p_interval (float | Sequence[float]): ``(low, high)`` for random
            crops or one value for a centre crop. Defaults to (0.5, 1.0).
        min_frames (int, optional): Shortest random crop (capped by the
            valid length); the official code hard-codes 64. Defaults to
            None, meaning ``clip_len``.
        test_mode (bool): Must be used with a single ``p_interval`` value
            (the official test setting is 0.95). Defaults to False.
        valid_joint (int, optional): Count the valid length on this joint
            of person 0 (SkeAttnCLR: 0). Defaults to None (any person).
    """

    def __init__(self,
                 clip_len: int = 64,
                 p_interval: Union[float, Sequence[float]] = (0.5, 1.0),
                 min_frames: Optional[int] = None,
                 test_mode: bool = False,
                 valid_joint: Optional[int] = None) -> None:
        p_interval = tuple(np.atleast_1d(np.asarray(p_interval, float)))
        if len(p_interval) not in (1, 2) or not all(
                0 < p <= 1 for p in p_interval) or p_interval[0] > \
                p_interval[-1]:
            raise ValueError('p_interval must be p or (low, high) with '
                             f'0 < low <= high <= 1, got {p_interval}')
        if test_mode and len(p_interval) != 1:
            raise ValueError('test_mode needs a deterministic centre crop: '
                             f'give one p_interval value (e.g. 0.95), got '
                             f'{p_interval}')
        if clip_len < 1:
            raise ValueError(f'clip_len must be positive, got {clip_len}')
        self.clip_len = clip_len
        self.p_interval = p_interval
        self.min_frames = clip_len if min_frames is None else min_frames
        self.test_mode = test_mode
        self.valid_joint = valid_joint

    def _crop_window(self, num_valid: int) -> Tuple[int, int]:
        """``(offset, length)`` of the crop inside the valid frames."""
        if len(self.p_interval) == 1:
            bias = int((1 - self.p_interval[0]) * num_valid / 2)
            return bias, num_valid - 2 * bias
        low, high = self.p_interval
        p = np.random.rand() * (high - low) + low
        length = int(min(max(int(np.floor(num_valid * p)), self.min_frames),
                         num_valid))
        return int(np.random.randint(0, num_valid - length + 1)), length

    def transform(self, results: Dict) -> Dict:
        """Crop and resize ``keypoint`` (and ``keypoint_score``)."""
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        if self.valid_joint is not None:  # SkeAttnCLR's get_length
            count = int(np.any(keypoint[0, :, self.valid_joint] != 0,
                               axis=-1).sum())
            begin, end = 0, count or keypoint.shape[1]
        else:
            valid = np.flatnonzero(valid_frames(keypoint))
            begin, end = (valid[0], valid[-1] + 1) if valid.size else (
                0, keypoint.shape[1])
        offset, length = self._crop_window(int(end - begin))
        window = slice(begin + offset, begin + offset + length)

        results['keypoint'] = resize_linear(keypoint[:, window],
                                            self.clip_len)
        if 'keypoint_score' in results:
            score = results['keypoint_score']
            if score.shape[:2] != keypoint.shape[:2]:
                raise ValueError(f'keypoint_score shape {score.shape} does '
                                 f'not match keypoint {keypoint.shape}')
            results['keypoint_score'] = resize_linear(
                score[:, window], self.clip_len)
        results['clip_len'] = self.clip_len
        results['num_clips'] = 1
        results['frame_interval'] = None
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, '
                f'p_interval={self.p_interval}, '
                f'min_frames={self.min_frames}, test_mode={self.test_mode}, '
                f'valid_joint={self.valid_joint})')


@TRANSFORMS.register_module()
class RandomSortedSampleFrames(BaseTransform):
    """NW-UCLA's frame sampling (Shift-GCN/CTR-GCN ``feeder_ucla``).

    Train: ``sorted(random.sample(list(range(T)) * repeat, clip_len))``,
    i.e. ``clip_len`` draws without replacement from ``repeat`` copies of
    every frame index, sorted (short clips repeat frames, long ones skip
    them, order kept). Test: ``np.linspace(0, T - 1, clip_len)`` truncated
    to integers. Follow it with ``PoseDecode``.

    Required Keys:

        - total_frames

    Added Keys:

        - frame_inds
        - clip_len
        - num_clips (1)
        - frame_interval (None)

    Args:
        clip_len (int): Frames to sample. Defaults to 52.
        repeat (int): Copies of each index in the training pool. Defaults
            to 100.
        test_mode (bool): Use the deterministic linspace. Defaults to False.
    """

    def __init__(self,
                 clip_len: int = 52,
                 repeat: int = 100,
                 test_mode: bool = False) -> None:
        if clip_len < 1 or repeat < 1:
            raise ValueError('clip_len and repeat must be positive, got '
                             f'{clip_len}, {repeat}')
        self.clip_len = clip_len
        self.repeat = repeat
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        """Choose ``frame_inds``."""
        num_frames = int(results['total_frames'])
        if self.test_mode:
            inds = np.linspace(0, num_frames - 1, self.clip_len).astype(int)
        else:
            pool = num_frames * self.repeat
            if pool < self.clip_len:
                raise ValueError(f'Cannot draw {self.clip_len} frames from '
                                 f'{num_frames} x {self.repeat}')
            inds = np.sort(np.random.choice(
                pool, self.clip_len, replace=False) % num_frames)
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = self.clip_len
        results['num_clips'] = 1
        results['frame_interval'] = None
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, '
                f'repeat={self.repeat}, test_mode={self.test_mode})')
