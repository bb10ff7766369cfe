"""Transforms of skeleton self-supervised pretraining (SkeletonCLR /
SkeAttnCLR): per-frame centring and shoulder alignment (the offline
preprocessing), shear, mirror-padded temporal crop, and several augmented
views stacked on MMAction2's clip axis.

Random draws use ``numpy.random`` (seeded per worker by mmengine); inputs
are never written to.
"""
import copy
from typing import Dict, List, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

from mmaction.registry import TRANSFORMS
from ._utils import check_keypoint, float_array, valid_person_frames


@TRANSFORMS.register_module()
class CenterJointPerFrame(BaseTransform):
    """Subtract one joint from every joint of the same person and frame
    (SkeAttnCLR's preprocessing: the spine, joint 21 1-based, index 20).
    All-zero person-frames (padding) stay zero.

    Required Keys: keypoint (M, T, V, C). Modified Keys: keypoint.

    Args:
        joint (int): Centre joint. Defaults to 20.
    """

    def __init__(self, joint: int = 20) -> None:
        self.joint = joint

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        out = float_array(keypoint)
        out = out - out[:, :, self.joint:self.joint + 1]
        out[~valid_person_frames(keypoint)] = 0
        results['keypoint'] = out
        return results


@TRANSFORMS.register_module()
class AlignShoulders(BaseTransform):
    """Rotate every person-frame about the y axis so that its shoulder
    vector (``left - right`` with y dropped) points along +x (SkeAttnCLR's
    ``parallel_skeleton``, per frame; the angle is ``atan2(z, x)`` of the
    vector, so no separate sign rule is needed). Frames whose shoulder
    vector has no x-z extent, and padding, are left unchanged.

    Required Keys: keypoint (M, T, V, 3). Modified Keys: keypoint.

    Args:
        left (int): Left shoulder (NTU 0-based 8). right (int): Right
            shoulder (NTU 4).
    """

    def __init__(self, left: int = 8, right: int = 4) -> None:
        self.left, self.right = left, right

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        if keypoint.shape[-1] != 3:
            raise ValueError('AlignShoulders needs 3D keypoints (C=3), got '
                             f'C={keypoint.shape[-1]}')
        vec = keypoint[:, :, self.left] - keypoint[:, :, self.right]
        angle = np.arctan2(vec[..., 2], vec[..., 0])  # (M, T)
        c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
        out = float_array(keypoint)
        x, z = keypoint[..., 0], keypoint[..., 2]
        # rotation by -angle about y: (x, z) -> (c x + s z, -s x + c z)
        out[..., 0] = c * x + s * z
        out[..., 2] = -s * x + c * z
        results['keypoint'] = out
        return results


@TRANSFORMS.register_module()
class RandomShear(BaseTransform):
    """``p' = S p`` with ``S = [[1, a1, a2], [a3, 1, a4], [a5, a6, 1]]``,
    ``a_i ~ U(-amplitude, amplitude)``, one matrix per sample shared by all
    persons, frames and joints (SkeletonCLR's ``shear``). 2D keypoints
    (an extension for 2D data such as FineGym's; not in the papers) get the
    x-y block ``[[1, a1], [a3, 1]]`` of the same draw.

    Required Keys: keypoint (M, T, V, 3 or 2). Modified Keys: keypoint.

    Args:
        amplitude (float): Defaults to 0.5.
    """

    def __init__(self, amplitude: float = 0.5) -> None:
        self.amplitude = amplitude

    def _sample_matrix(self) -> np.ndarray:
        a = np.random.uniform(-self.amplitude, self.amplitude, 6)
        return np.array([[1, a[0], a[1]], [a[2], 1, a[3]], [a[4], a[5], 1]])

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        C = keypoint.shape[-1]
        if C not in (2, 3):
            raise ValueError('RandomShear needs 2D or 3D keypoints (C=2 or '
                             f'3), got C={C}')
        out = float_array(keypoint)
        out[...] = keypoint @ self._sample_matrix()[:C, :C].T
        results['keypoint'] = out
        return results


@TRANSFORMS.register_module()
class TemporalMirrorCrop(BaseTransform):
    """Reflect-pad ``T // padding_ratio`` frames at both ends (NumPy
    ``'reflect'``: the edge frame is not repeated, as SkeletonCLR's
    ``temperal_crop``) and take ``T`` consecutive frames from a start
    uniform in ``{0 .. 2 * pad}``.

    Required Keys: keypoint (M, T, V, C), keypoint_score (optional).
    Modified Keys: keypoint, keypoint_score.

    Args:
        padding_ratio (int): Defaults to 6 (10 frames of 64).
    """

    def __init__(self, padding_ratio: int = 6) -> None:
        if padding_ratio < 1:
            raise ValueError(f'padding_ratio must be >= 1, got '
                             f'{padding_ratio}')
        self.padding_ratio = padding_ratio

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        T = keypoint.shape[1]
        pad = min(T // self.padding_ratio, T - 1)
        start = int(np.random.randint(0, 2 * pad + 1))
        for key in ('keypoint', 'keypoint_score'):
            if key in results:
                arr = results[key]
                widths = [(0, 0)] * arr.ndim
                widths[1] = (pad, pad)
                padded = np.pad(arr, widths, mode='reflect')
                results[key] = np.ascontiguousarray(padded[:, start:start + T])
        return results


@TRANSFORMS.register_module()
class ContrastiveViews(BaseTransform):
    """``num_views`` independent passes of ``transforms`` over copies of the
    sample, concatenated along time, so that ``FormatGCNInput`` (which
    splits time into ``num_clips`` clips) and ``PackActionInputs`` give
    ``inputs (num_views, M, T, V, C)``: view ``i`` is clip ``i``.

    Required Keys: keypoint (M, T, V, C), keypoint_score (optional).
    Modified Keys: keypoint (M, num_views * T, V, C), keypoint_score.
    Added Keys: num_clips (= num_views), clip_len (T).

    Args:
        transforms (list[dict]): Per-view augmentations (each view gets
            its own draws). They must keep T and any other key unchanged.
        num_views (int): Defaults to 2.
    """

    def __init__(self, transforms: Sequence[dict], num_views: int = 2) -> None:
        if num_views < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        self.num_views = num_views
        self.pipeline = Compose(list(transforms))

    def transform(self, results: Dict) -> Dict:
        views: List[Dict] = [
            self.pipeline(copy.deepcopy(results))
            for _ in range(self.num_views)
        ]
        lengths = {v['keypoint'].shape[1] for v in views}
        if len(lengths) != 1:
            raise ValueError(f'ContrastiveViews: views of different lengths '
                             f'{sorted(lengths)}; give a fixed-length crop')
        for key in ('keypoint', 'keypoint_score'):
            if key in results:
                results[key] = np.concatenate([v[key] for v in views], axis=1)
        results['num_clips'] = self.num_views
        results['clip_len'] = lengths.pop()
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_views={self.num_views}, '
                f'transforms={self.pipeline})')
