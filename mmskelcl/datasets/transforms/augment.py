"""Random spatial augmentations of the CTR-GCN / FR-Head feeders.

All draw from ``numpy.random`` (seeded per worker by mmengine) through one
``_sample_*`` method each, which tests and subclasses may override, and
all return new arrays: the input ``keypoint`` is never written to.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ...structures.layouts import NUM_JOINTS, SYMMETRIC_BONES, bone_tree
from ._utils import check_keypoint, float_array, resolve_spatial_dims


def rotation_matrix_3d(angles: Sequence[float]) -> np.ndarray:
    """CTR-GCN's ``_rot``: ``Rz @ Ry @ Rx`` for angles ``(ax, ay, az)``.

    The factors are written as in the official code::

        Rx = [[1, 0, 0], [0, cx, sx], [0, -sx, cx]]
        Ry = [[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]]
        Rz = [[cz, sz, 0], [-sz, cz, 0], [0, 0, 1]]

    i.e. each is the right-handed rotation by the *negative* angle; as the
    angles are symmetric around 0 the distribution is the same. Points are
    column vectors: ``p' = R @ p`` (x first, then y, then z).
    """
    (cx, cy, cz), (sx, sy, sz) = np.cos(angles), np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, sx], [0, -sx, cx]])
    ry = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
    rz = np.array([[cz, sz, 0], [-sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def rotation_matrix_2d(angle: float) -> np.ndarray:
    """Counter-clockwise (x towards y) rotation ``[[c, -s], [s, c]]``, as
    PySKL's ``RandomRot`` for 2D; ``p' = R @ p``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def apply_linear(keypoint: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``p' = matrix @ p`` on the first ``len(matrix)`` channels of every
    point; the remaining channels (e.g. a score) are copied unchanged."""
    out = float_array(keypoint)
    dims = matrix.shape[0]
    out[..., :dims] = keypoint[..., :dims] @ matrix.T
    return out


@TRANSFORMS.register_module()
class RandomRotation(BaseTransform):
    """Rotate the whole sequence by one random rotation (CTR-GCN
    ``random_rot``, PySKL ``RandomRot``).

    3D: angles about x, y and z, each uniform in ``[-theta, theta]``, the
    same for all frames and persons, composed as ``Rz @ Ry @ Rx`` about the
    origin exactly like the official code (:func:`rotation_matrix_3d`).
    2D: one in-plane angle uniform in ``[-theta_z, theta_z]``
    (:func:`rotation_matrix_2d`) about the origin, so use it after
    ``PreNormalize2D`` (coordinates centred in [-1, 1]).

    Required Keys:

        - keypoint (M, T, V, C)

    Modified Keys:

        - keypoint (a new float array)

    Args:
        theta (float | Sequence[float]): Largest angle in radians, one for
            all axes or ``(x, y, z)``; 2D uses the z value. Defaults to 0.3.
        num_spatial_dims (int, optional): Coordinates in ``keypoint``: None
            infers 2 from C=2 and 3 from C=3. Give 2 when C=3 means
            ``x, y, score``; the score channel is left alone (a separate
            ``keypoint_score`` is never touched). Defaults to None.
    """

    def __init__(self,
                 theta: Union[float, Sequence[float]] = 0.3,
                 num_spatial_dims: Optional[int] = None) -> None:
        theta = np.asarray(theta, dtype=float).reshape(-1)
        if theta.size not in (1, 3) or np.any(theta < 0):
            raise ValueError('theta must be one angle >= 0 or three (x, y, '
                             f'z), got {theta}')
        theta = np.broadcast_to(theta, (3, ))
        self.theta = tuple(float(t) for t in theta)
        self.num_spatial_dims = num_spatial_dims

    def _sample_angles(self, num_spatial_dims: int) -> np.ndarray:
        """``(ax, ay, az)`` for 3D, ``(a, )`` for 2D, in radians."""
        if num_spatial_dims == 3:
            bound = np.asarray(self.theta)
            return np.random.uniform(-bound, bound)
        return np.random.uniform(-self.theta[2], self.theta[2], size=1)

    def transform(self, results: Dict) -> Dict:
        """Rotate ``results['keypoint']``."""
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        dims = resolve_spatial_dims(keypoint, self.num_spatial_dims,
                                    type(self).__name__)
        angles = self._sample_angles(dims)
        matrix = rotation_matrix_3d(angles) if dims == 3 \
            else rotation_matrix_2d(angles[0])
        results['keypoint'] = apply_linear(keypoint, matrix)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(theta={self.theta}, '
                f'num_spatial_dims={self.num_spatial_dims})')


def rescale_bones(keypoint: np.ndarray, tree: Sequence[Tuple[int, int]],
                  factors: np.ndarray, num_spatial_dims: int) -> np.ndarray:
    """Multiply each bone of ``tree`` by its factor and rebuild the joints.

    Args:
        keypoint (np.ndarray): (M, T, V, C) joints.
        tree (Sequence[tuple[int, int]]): ``(child, parent)`` bones, parents
            first, rooted at the one joint that is no child (it stays put).
        factors (np.ndarray): One factor per bone of ``tree``.
        num_spatial_dims (int): Leading channels that are coordinates.

    Returns:
        np.ndarray: New joints; bone directions are kept, lengths scaled,
        and every joint moves with its ancestors' bones (FR-Head
        ``get_pose_by_vec``). All-zero person-frames stay zero.
    """
    out = float_array(keypoint)
    xyz = keypoint[..., :num_spatial_dims].astype(out.dtype)
    new = xyz.copy()
    for (child, parent), factor in zip(tree, factors):
        new[:, :, child] = new[:, :, parent] + factor * (
            xyz[:, :, child] - xyz[:, :, parent])
    out[..., :num_spatial_dims] = new
    return out


@TRANSFORMS.register_module()
class RandomBoneScale(BaseTransform):
    """FR-Head's ``random_scale``: random bone lengths, left/right tied.

    Per bone of the layout's tree (``layouts.bone_tree``: FR-Head's
    ``ntu_dir_pairs`` for NTU, rooted at joint 0) a factor is drawn
    uniformly from ``[1 - scale, 1 + scale]``; each pair of symmetric bones
    (``layouts.SYMMETRIC_BONES``) then gets the mean of its two factors.
    Joints are made root-relative, every bone vector is multiplied by its
    factor, and the skeleton is rebuilt from the root along the tree, so
    children follow their parents; the root is added back. One draw per
    sample, shared by all frames and persons. FR-Head normalises bones with
    ``len + 1e-8`` first; here the bone vector is scaled directly (same
    result up to that epsilon).

    Meant for complete skeletons (3D); a missing 2D joint stored as (0, 0)
    would be moved like any other joint.

    Required Keys:

        - keypoint (M, T, V, C)

    Modified Keys:

        - keypoint (a new float array)

    Args:
        scale (float): Half width of the factor range. Defaults to 0.2.
        layout (str): Skeleton layout, one of ``layouts.SYMMETRIC_BONES``.
            Defaults to ``'nturgb+d'``.
        num_spatial_dims (int, optional): As in :class:`RandomRotation`.
            Defaults to None.
    """

    def __init__(self,
                 scale: float = 0.2,
                 layout: str = 'nturgb+d',
                 num_spatial_dims: Optional[int] = None) -> None:
        if not 0 <= scale < 1:
            raise ValueError(f'scale must be in [0, 1), got {scale}')
        if layout not in SYMMETRIC_BONES:
            raise ValueError(f'No symmetric bones for layout {layout!r}; '
                             f'known: {sorted(SYMMETRIC_BONES)}')
        self.scale = scale
        self.layout = layout
        self.num_spatial_dims = num_spatial_dims
        self.tree = bone_tree(layout)
        position = {child: i for i, (child, _) in enumerate(self.tree)}
        self.sym_index = tuple((position[a], position[b])
                               for a, b in SYMMETRIC_BONES[layout])

    def _sample_factors(self) -> np.ndarray:
        """Independent factors, one per bone of ``self.tree``."""
        return np.random.uniform(1 - self.scale, 1 + self.scale,
                                 size=len(self.tree))

    def symmetrize(self, factors: np.ndarray) -> np.ndarray:
        """Give both bones of every symmetric pair their mean factor."""
        factors = np.array(factors, dtype=float, copy=True)
        for i, j in self.sym_index:
            factors[i] = factors[j] = (factors[i] + factors[j]) / 2
        return factors

    def transform(self, results: Dict) -> Dict:
        """Rescale the bones of ``results['keypoint']``."""
        keypoint = results['keypoint']
        name = type(self).__name__
        check_keypoint(keypoint, name)
        if keypoint.shape[2] != NUM_JOINTS[self.layout]:
            raise ValueError(f'{name}: layout {self.layout!r} has '
                             f'{NUM_JOINTS[self.layout]} joints, keypoint '
                             f'has V={keypoint.shape[2]}')
        dims = resolve_spatial_dims(keypoint, self.num_spatial_dims, name)
        factors = self.symmetrize(self._sample_factors())
        results['keypoint'] = rescale_bones(keypoint, self.tree, factors,
                                            dims)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, '
                f'layout={self.layout!r}, '
                f'num_spatial_dims={self.num_spatial_dims})')


def view_matrix(angle_x: float, angle_y: float, scale: float) -> np.ndarray:
    """NW-UCLA feeder's ``rand_view_transform`` matrix ``Ry @ Rx @ S``
    (angles in degrees), applied to row vectors: ``p' = p @ matrix``.

    ``Rx = [[1, 0, 0], [0, cx, sx], [0, -sx, cx]]``,
    ``Ry = [[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]]``, ``S = scale * I``.
    """
    ax, ay = np.radians(angle_x), np.radians(angle_y)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), np.sin(ax)],
                   [0, -np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, -np.sin(ay)], [0, 1, 0],
                   [np.sin(ay), 0, np.cos(ay)]])
    return ry @ rx @ (scale * np.eye(3))


@TRANSFORMS.register_module()
class RandomViewTransform(BaseTransform):
    """NW-UCLA's random view change (Shift-GCN/CTR-GCN ``feeder_ucla``).

    Rotates about x and y by integer angles drawn uniformly from
    ``[-rot_range, rot_range]`` degrees (``random.randint``, inclusive) and
    scales by ``s ~ U(scale_range)``, about the origin, so run
    :class:`CenterJoint` first. The official feeder applies it in training
    only (angles 0 and s = 1 at test), so leave it out of test pipelines.

    Required Keys:

        - keypoint (M, T, V, 3)

    Modified Keys:

        - keypoint (a new float array)

    Args:
        rot_range (int): Largest angle in degrees. Defaults to 60.
        scale_range (tuple[float, float]): Range of the scale factor.
            Defaults to (0.5, 1.5).
    """

    def __init__(self,
                 rot_range: int = 60,
                 scale_range: Tuple[float, float] = (0.5, 1.5)) -> None:
        if int(rot_range) != rot_range or rot_range < 0:
            raise ValueError(f'rot_range must be a non-negative integer '
                             f'(degrees), got {rot_range}')
        if len(scale_range) != 2 or not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError(f'scale_range must be (low, high) with '
                             f'0 < low <= high, got {scale_range}')
        self.rot_range = int(rot_range)
        self.scale_range = tuple(scale_range)

    def _sample_params(self) -> Tuple[int, int, float]:
        """``(angle_x, angle_y, scale)``, angles in degrees."""
        angle_x, angle_y = np.random.randint(
            -self.rot_range, self.rot_range + 1, size=2)
        return int(angle_x), int(angle_y), float(
            np.random.uniform(*self.scale_range))

    def transform(self, results: Dict) -> Dict:
        """Rotate and scale ``results['keypoint']``."""
        keypoint = results['keypoint']
        check_keypoint(keypoint, type(self).__name__)
        if keypoint.shape[-1] != 3:
            raise ValueError(f'{type(self).__name__} needs 3D keypoints '
                             f'(C=3), got shape {keypoint.shape}')
        # p' = p @ V  <=>  p' = V.T @ p
        matrix = view_matrix(*self._sample_params())
        results['keypoint'] = apply_linear(keypoint, matrix.T)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(rot_range={self.rot_range}, '
                f'scale_range={self.scale_range})')
