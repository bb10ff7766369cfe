"""Transforms of skeleton self-supervised pretraining (SkeletonCLR /
SkeAttnCLR): per-frame centring and shoulder alignment (the offline
preprocessing), shear, mirror-padded temporal crop, and several augmented
views stacked on MMAction2's clip axis. Defaults are the released rules;
the alternatives are switches (``AlignShoulders.sign``,
``TemporalMirrorCrop.mode``).

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
    """Rotate each person about the y axis so that its shoulder vector
    ``v = keypoint[left] - keypoint[right]`` with y dropped points along +x
    (SkeAttnCLR's ``parallel_skeleton``). For NTU the configs pass
    ``left=8, right=4`` (0-based), i.e. the release's ``joint 8 - joint 4``;
    by NTU's naming these are the right and the left shoulder.

    * ``sign='sequence'`` (released): per frame ``a_t = arccos(v_x /
      (|v| + eps))`` (``eps = 1e-4``, in ``[0, pi]``), and one sign per
      person for the whole sequence: ``theta_t = -a_t`` if ``sum_t v_z >=
      0``, else ``+a_t``. Frame ``t`` is rotated by ``R(theta_t)``,
      ``(x, z) -> (cos x - sin z, sin x + cos z)``. A frame whose ``v_z``
      has the other sign than the sum is rotated the wrong way (it ends at
      ``2 a_t`` from +x, not at +x), and a frame with ``v = 0`` is rotated
      by 90 degrees: both as released.
    * ``sign='frame'``: the angle of each frame is ``atan2(v_z, v_x)``, so
      every frame's shoulder vector ends on +x exactly; frames with
      ``v = 0`` (padding) are left unchanged. Not the release: it differs
      from ``'sequence'`` on every frame whose ``v_z`` sign differs from the
      sequence's (a sequence whose shoulder vector crosses the x axis).

    All-zero person-frames stay zero under both rules.

    Required Keys: keypoint (M, T, V, 3). Modified Keys: keypoint.

    Args:
        left (int): Joint the vector points to (NTU: 8).
        right (int): Joint the vector starts from (NTU: 4).
        sign (str): ``'sequence'`` (released) or ``'frame'``.
        eps (float): Added to ``|v|`` by the ``'sequence'`` rule (1e-4 as
            released).
    """

    SIGNS = ('sequence', 'frame')

    def __init__(self, left: int = 8, right: int = 4,
                 sign: str = 'sequence', eps: float = 1e-4) -> None:
        if sign not in self.SIGNS:
            raise ValueError(f'AlignShoulders: sign must be one of '
                             f'{self.SIGNS}, got {sign!r}')
        self.left, self.right, self.sign, self.eps = left, right, sign, eps

    def _angles(self, vec: np.ndarray) -> np.ndarray:
        """Rotation angle ``theta (M, T)`` of ``R(theta)`` per person-frame
        from the shoulder vectors ``vec (M, T, 3)``."""
        x, z = vec[..., 0].astype(np.float64), vec[..., 2].astype(np.float64)
        if self.sign == 'frame':
            return -np.arctan2(z, x)
        norm = np.sqrt(x * x + z * z)
        angle = np.arccos(np.clip(x / (norm + self.eps), -1.0, 1.0))
        positive = z.sum(axis=1, keepdims=True) >= 0  # one sign per person
        return np.where(positive, -angle, angle)

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        if keypoint.shape[-1] != 3:
            raise ValueError('AlignShoulders needs 3D keypoints (C=3), got '
                             f'C={keypoint.shape[-1]}')
        theta = self._angles(keypoint[:, :, self.left] -
                             keypoint[:, :, self.right])
        c, s = np.cos(theta)[..., None], np.sin(theta)[..., None]
        out = float_array(keypoint)
        x, z = keypoint[..., 0], keypoint[..., 2]
        out[..., 0] = c * x - s * z
        out[..., 2] = s * x + c * z
        results['keypoint'] = out
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(left={self.left}, '
                f'right={self.right}, sign={self.sign!r})')


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
    """Mirror-pad ``T // padding_ratio`` frames at both ends and take ``T``
    consecutive frames from a start uniform in ``{0 .. 2 * pad}``
    (SkeletonCLR / SkeAttnCLR ``temperal_crop``).

    ``mode='symmetric'`` (released): NumPy's ``'symmetric'`` padding, the
    edge frame repeated (frames ``0 1 2 ...`` get ``... 1 0 | 0 1 ...``;
    the release concatenates ``x[:, :pad][:, ::-1]``). ``mode='reflect'``
    (not the release): NumPy's ``'reflect'``, the edge frame not repeated
    (``... 2 1 | 0 1 ...``).

    Required Keys: keypoint (M, T, V, C), keypoint_score (optional).
    Modified Keys: keypoint, keypoint_score.

    Args:
        padding_ratio (int): Defaults to 6 (10 frames of 64).
        mode (str): ``'symmetric'`` (released) or ``'reflect'``.
    """

    MODES = ('symmetric', 'reflect')

    def __init__(self, padding_ratio: int = 6,
                 mode: str = 'symmetric') -> None:
        if padding_ratio < 1:
            raise ValueError(f'padding_ratio must be >= 1, got '
                             f'{padding_ratio}')
        if mode not in self.MODES:
            raise ValueError(f'TemporalMirrorCrop: mode must be one of '
                             f'{self.MODES}, got {mode!r}')
        self.padding_ratio, self.mode = padding_ratio, mode

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        T = keypoint.shape[1]
        pad = min(T // self.padding_ratio,
                  T if self.mode == 'symmetric' else T - 1)
        start = int(np.random.randint(0, 2 * pad + 1))
        for key in ('keypoint', 'keypoint_score'):
            if key in results:
                arr = results[key]
                widths = [(0, 0)] * arr.ndim
                widths[1] = (pad, pad)
                padded = np.pad(arr, widths, mode=self.mode)
                results[key] = np.ascontiguousarray(padded[:, start:start + T])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(padding_ratio={self.padding_ratio}, '
                f'mode={self.mode!r})')


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
