"""Helpers shared by the skeleton transforms (not registered)."""
from typing import Optional

import numpy as np


def float_array(array: np.ndarray) -> np.ndarray:
    """A new float copy of ``array``: float64 stays float64, anything else
    (float16 from the HRNet pickles, integers) becomes float32."""
    dtype = np.float64 if array.dtype == np.float64 else np.float32
    return np.array(array, dtype=dtype, copy=True)


def check_keypoint(keypoint: np.ndarray, name: str) -> None:
    """Raise a clear error unless ``keypoint`` is (M, T, V, C)."""
    if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4:
        shape = getattr(keypoint, 'shape', None)
        raise ValueError(f'{name} expects keypoint of shape (M, T, V, C), '
                         f'got {shape}')


def resolve_spatial_dims(keypoint: np.ndarray,
                         num_spatial_dims: Optional[int], name: str) -> int:
    """How many leading channels of ``keypoint`` are coordinates.

    ``None`` infers it from C: 2 -> 2D, 3 -> 3D. Keypoints whose last
    channel is a score (``x, y, score``, e.g. after ``GenSkeFeat`` merged
    ``keypoint_score``) need ``num_spatial_dims=2`` explicitly; the other
    channels are left untouched.
    """
    num_channels = keypoint.shape[-1]
    dims = num_channels if num_spatial_dims is None else num_spatial_dims
    if dims not in (2, 3) or dims > num_channels:
        raise ValueError(f'{name}: cannot use {dims} spatial dims of '
                         f'keypoint with C={num_channels}; set '
                         'num_spatial_dims to 2 or 3')
    return dims


def valid_person_frames(keypoint: np.ndarray) -> np.ndarray:
    """(M, T) mask of person-frames that are not all zero (zero = padding
    or no detection, the convention of the NTU/CTR-GCN data)."""
    return np.any(keypoint != 0, axis=(2, 3))


def valid_frames(keypoint: np.ndarray) -> np.ndarray:
    """(T,) mask of frames in which some person is not all zero."""
    return np.any(keypoint != 0, axis=(0, 2, 3))
