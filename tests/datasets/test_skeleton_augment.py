import numpy as np
import pytest
from numpy.testing import assert_allclose

import mmskelcl  # noqa: F401
from mmaction.registry import TRANSFORMS
from mmskelcl.structures.layouts import (NUM_JOINTS, SYMMETRIC_BONES,
                                       bone_tree)
from mmskelcl.datasets.transforms import (RandomBoneScale, RandomRotation,
                                          RandomViewTransform)
from mmskelcl.datasets.transforms.augment import (rotation_matrix_3d,
                                                  view_matrix)


def _points(*points):
    """(M=1, T=1, V=len(points), C) keypoint."""
    return np.array(points, dtype=np.float32)[None, None]


def _fixed(transform, method, value):
    setattr(transform, method, lambda *args: np.asarray(value))
    return transform


class TestRandomRotation:

    def test_single_axes(self):
        c, s = np.cos(0.3), np.sin(0.3)
        # Official Rz = [[c, s, 0], [-s, c, 0], [0, 0, 1]]
        t = _fixed(RandomRotation(), '_sample_angles', [0, 0, 0.3])
        out = t(dict(keypoint=_points([1, 0, 0], [0, 1, 0], [0, 0, 2])))
        assert_allclose(out['keypoint'][0, 0],
                        [[c, -s, 0], [s, c, 0], [0, 0, 2]], atol=1e-6)
        # Official Rx = [[1, 0, 0], [0, c, s], [0, -s, c]]
        t = _fixed(RandomRotation(), '_sample_angles', [0.3, 0, 0])
        out = t(dict(keypoint=_points([0, 1, 0])))
        assert_allclose(out['keypoint'][0, 0, 0], [0, c, -s], atol=1e-6)
        # Official Ry = [[c, 0, -s], [0, 1, 0], [s, 0, c]]
        t = _fixed(RandomRotation(), '_sample_angles', [0, 0.3, 0])
        out = t(dict(keypoint=_points([1, 0, 0])))
        assert_allclose(out['keypoint'][0, 0, 0], [c, 0, s], atol=1e-6)

    def test_order_is_rz_ry_rx(self):
        half = np.pi / 2
        # Rx(90) maps x to x, then Ry(90) maps x to z: (0, 0, 1).
        # The other order Rx @ Ry would give (0, 1, 0).
        t = _fixed(RandomRotation(), '_sample_angles', [half, half, 0])
        out = t(dict(keypoint=_points([1, 0, 0])))
        assert_allclose(out['keypoint'][0, 0, 0], [0, 0, 1], atol=1e-6)
        matrix = rotation_matrix_3d([0.1, 0.2, 0.3])
        assert_allclose(matrix @ matrix.T, np.eye(3), atol=1e-12)

    def test_2d_and_score(self):
        half = np.pi / 2
        t = _fixed(RandomRotation(), '_sample_angles', [half])
        score = np.array([[[0.7, 0.9]]], dtype=np.float32)
        results = dict(keypoint=_points([1, 0], [0, 2]), keypoint_score=score)
        out = t(results)
        assert_allclose(out['keypoint'][0, 0], [[0, 1], [-2, 0]], atol=1e-6)
        assert out['keypoint_score'] is score
        # x, y, score in one array: only the first two channels rotate
        t = _fixed(RandomRotation(num_spatial_dims=2), '_sample_angles',
                   [half])
        out = t(dict(keypoint=_points([1, 0, 0.7], [0, 2, 0.9])))
        assert_allclose(out['keypoint'][0, 0], [[0, 1, 0.7], [-2, 0, 0.9]],
                        atol=1e-6)

    def test_random_draw_in_range(self):
        np.random.seed(0)
        kp = np.random.randn(2, 5, 25, 3).astype(np.float32)
        kp[1, 3:] = 0
        t = RandomRotation(theta=0.3)
        for _ in range(20):
            angles = t._sample_angles(3)
            assert angles.shape == (3, ) and np.all(np.abs(angles) <= 0.3)
        out = t(dict(keypoint=kp))['keypoint']
        assert out.dtype == np.float32 and out.shape == kp.shape
        assert_allclose(np.linalg.norm(out, axis=-1),
                        np.linalg.norm(kp, axis=-1), rtol=1e-5)
        assert not out[1, 3:].any()
        assert not np.allclose(out, kp)
        with pytest.raises(ValueError, match='num_spatial_dims'):
            t(dict(keypoint=np.ones((1, 2, 3, 4))))
        with pytest.raises(ValueError, match='theta'):
            RandomRotation(theta=(0.1, 0.2))
        assert RandomRotation(theta=[0.1, 0.2, 0.3]).theta == (0.1, 0.2, 0.3)


# FR-Head reference data (feeders/bone_pairs.py): directed NTU bones, 1-based
# joints, and symmetric pairs given as indices into that bone list.
FRHEAD_NTU_DIR_PAIRS = (
    (1, 2), (2, 21), (21, 3), (3, 4), (21, 5), (5, 6), (6, 7), (7, 8),
    (8, 23), (23, 22), (21, 9), (9, 10), (10, 11), (11, 12), (12, 25),
    (25, 24), (1, 13), (13, 14), (14, 15), (15, 16), (1, 17), (17, 18),
    (18, 19), (19, 20))
FRHEAD_NTU_SYM_PAIRS = ((4, 10), (5, 11), (6, 12), (7, 13), (8, 14), (9, 15),
                        (16, 20), (17, 21), (18, 22), (19, 23))


def _frhead_random_scale(kp, bone_factors):
    """FR-Head's matrix formulation with given per-bone factors (one per
    ``FRHEAD_NTU_DIR_PAIRS`` entry), on (M, T, V, 3)."""
    num = len(FRHEAD_NTU_DIR_PAIRS)
    pose2vec = np.zeros((num, 25))
    vec2pose = np.zeros((25, num))
    for i, (u, v) in enumerate(FRHEAD_NTU_DIR_PAIRS):
        pose2vec[i, u - 1], pose2vec[i, v - 1] = -1, 1
        vec2pose[v - 1] = vec2pose[u - 1]
        vec2pose[v - 1, i] = 1
    sym = np.eye(num)
    for i, j in FRHEAD_NTU_SYM_PAIRS:
        sym[i, i] = sym[i, j] = sym[j, j] = sym[j, i] = 0.5
    root = kp[:, :, :1]
    bones = pose2vec @ (kp - root)
    return vec2pose @ (bones * (sym @ bone_factors)[:, None]) + root


class TestRandomBoneScale:

    def test_matches_frhead_formulation(self):
        rng = np.random.default_rng(1)
        kp = rng.normal(size=(2, 3, 25, 3))
        fr_factors = rng.uniform(0.8, 1.2, size=24)
        t = RandomBoneScale(scale=0.2, layout='nturgb+d')
        # our factors are ordered by t.tree; FR-Head's by its bone list
        by_child = {v - 1: f for (_, v), f in zip(FRHEAD_NTU_DIR_PAIRS,
                                                  fr_factors)}
        _fixed(t, '_sample_factors', [by_child[c] for c, _ in t.tree])
        out = t(dict(keypoint=kp))['keypoint']
        assert_allclose(out, _frhead_random_scale(kp, fr_factors), atol=1e-9)

    @pytest.mark.parametrize('layout', ['nturgb+d', 'coco', 'nwucla',
                                        'openpose'])
    def test_bones_scaled_with_symmetric_factors(self, layout):
        rng = np.random.default_rng(2)
        num_joints = NUM_JOINTS[layout]
        kp = rng.normal(size=(2, 4, num_joints, 3)).astype(np.float32)
        kp[1, 2:] = 0  # padding stays padding
        t = RandomBoneScale(scale=0.2, layout=layout)
        raw = np.linspace(0.8, 1.2, len(t.tree))
        _fixed(t, '_sample_factors', raw)
        out = t(dict(keypoint=kp))['keypoint']
        factor = dict(zip((c for c, _ in t.tree), raw))
        for a, b in SYMMETRIC_BONES[layout]:
            factor[a] = factor[b] = (factor[a] + factor[b]) / 2
        assert len(factor) == num_joints - 1
        for child, parent in bone_tree(layout):
            before = kp[..., child, :] - kp[..., parent, :]
            after = out[..., child, :] - out[..., parent, :]
            # same direction, length times the (shared) factor
            assert_allclose(after, factor[child] * before, atol=1e-5)
        root = set(range(num_joints)) - set(factor)
        assert root == {0}
        assert_allclose(out[..., 0, :], kp[..., 0, :])
        assert not out[1, 2:].any()

    def test_random_factors(self):
        np.random.seed(3)
        t = RandomBoneScale(scale=0.2, layout='nwucla')
        factors = t.symmetrize(t._sample_factors())
        assert factors.shape == (19, )
        assert np.all((factors >= 0.8) & (factors <= 1.2))
        for i, j in t.sym_index:
            assert factors[i] == factors[j]
        kp = np.random.randn(1, 3, 20, 2).astype(np.float32)
        out = t(dict(keypoint=kp))['keypoint']
        assert out.shape == kp.shape and out.dtype == np.float32

    def test_errors(self):
        with pytest.raises(ValueError, match='No symmetric bones'):
            RandomBoneScale(layout='hand')
        with pytest.raises(ValueError, match='V=17'):
            RandomBoneScale()(dict(keypoint=np.ones((1, 2, 17, 3))))


class TestRandomViewTransform:

    def test_known_params(self):
        t = RandomViewTransform()
        t._sample_params = lambda: (90, 0, 1.0)
        # p' = p @ (Ry @ Rx @ S); Rx(90) = [[1,0,0],[0,0,1],[0,-1,0]]
        out = t(dict(keypoint=_points([0, 1, 0], [1, 0, 0])))['keypoint']
        assert_allclose(out[0, 0], [[0, 0, 1], [1, 0, 0]], atol=1e-6)
        t._sample_params = lambda: (0, 90, 1.0)
        # Ry(90) = [[0,0,-1],[0,1,0],[1,0,0]]: x -> (0, 0, -1)
        out = t(dict(keypoint=_points([1, 0, 0])))['keypoint']
        assert_allclose(out[0, 0, 0], [0, 0, -1], atol=1e-6)
        t._sample_params = lambda: (0, 0, 1.5)
        out = t(dict(keypoint=_points([1, -2, 3])))['keypoint']
        assert_allclose(out[0, 0, 0], [1.5, -3, 4.5], atol=1e-6)
        assert_allclose(view_matrix(30, -20, 0.7),
                        view_matrix(30, -20, 1.0) * 0.7)

    def test_random_params(self):
        np.random.seed(0)
        t = RandomViewTransform(rot_range=60, scale_range=(0.5, 1.5))
        draws = [t._sample_params() for _ in range(200)]
        angles = np.array([d[:2] for d in draws])
        scales = np.array([d[2] for d in draws])
        assert angles.dtype.kind == 'i'
        assert angles.min() >= -60 and angles.max() <= 60
        assert np.all((scales >= 0.5) & (scales <= 1.5))
        with pytest.raises(ValueError, match='C=3'):
            t(dict(keypoint=np.ones((1, 2, 3, 2))))


def test_build_from_registry():
    for cfg in (dict(type='RandomRotation', theta=0.2),
                dict(type='RandomBoneScale', scale=0.1, layout='coco'),
                dict(type='RandomViewTransform', rot_range=30)):
        assert TRANSFORMS.build(cfg).__class__.__name__ == cfg['type']
        assert cfg['type'] in repr(TRANSFORMS.build(cfg))
