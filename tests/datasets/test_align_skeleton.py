"""AlignSkeleton against InfoGCN's released ``align_skeleton`` rule.

The release (stnoah1/infogcn ``utils.py``) takes, per person, from frame 0:
``v1`` = unit(joint 1 - joint 0), ``v2`` = unit(hip vector joint 12 - joint
16 minus its projection on ``v1``), ``v3`` = unit(cross(v2, v1)), and maps
every frame ``p`` to ``inv([v2 v3 v1]) @ p``; a person whose ``v1`` is zero
stays all-zero. The expected values below are worked out by hand from that
rule, or re-derived with its own matrix inverse on random data.
"""
import numpy as np
import pytest

from mmskelcl.datasets.transforms import AlignSkeleton


def _rot(axis: str, deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = {'x': (1, 2), 'y': (2, 0), 'z': (0, 1)}[axis]
    R = np.eye(3)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def _canonical(rng) -> np.ndarray:
    """A (25, 3) pose whose release axes are the standard ones: spine
    (0 -> 1) along +z, hip vector (16 -> 12) = (2, 0, -0.5), i.e. +x plus a
    part along the spine that the rule projects out."""
    pose = rng.normal(size=(25, 3))
    pose[0] = (0, 0, 0)
    pose[1] = (0, 0, 2)
    pose[16] = (-1, 0.3, 0.4)
    pose[12] = (1, 0.3, -0.1)
    return pose


def test_axes_by_hand_every_frame_uses_the_first_frames_axes():
    rng = np.random.default_rng(0)
    pose0 = _canonical(rng)
    pose1 = pose0 + rng.normal(size=(25, 3))  # another pose, spine moved
    Q = _rot('x', 30) @ _rot('z', 75)  # the camera's view of the body
    kp = np.zeros((2, 3, 25, 3), np.float32)  # person 1: padding
    kp[0, 0], kp[0, 1] = pose0 @ Q.T, pose1 @ Q.T  # frame 2: padding
    out = AlignSkeleton().transform(dict(keypoint=kp))['keypoint']
    # v1 = Q e_z, v2 = Q e_x, v3 = cross(Q e_x, Q e_z) = -Q e_y, so
    # inv([v2 v3 v1]) Q p = (p_x, -p_y, p_z): the canonical pose with y
    # negated, for frame 1 too (axes of frame 0, not of frame 1)
    flip = np.array([1, -1, 1])
    np.testing.assert_allclose(out[0, 0], pose0 * flip, atol=1e-5)
    np.testing.assert_allclose(out[0, 1], pose1 * flip, atol=1e-5)
    assert not out[0, 2].any() and not out[1].any()
    assert out.dtype == np.float32 and not np.shares_memory(out, kp)
    # spine on +z, hips on +x (their spine part stays on z)
    assert out[0, 0, 1] == pytest.approx([0, 0, 2], abs=1e-5)
    hip = out[0, 0, 12] - out[0, 0, 16]
    assert hip == pytest.approx([2, 0, -0.5], abs=1e-5)


def test_persons_get_their_own_axes_and_absent_ones_are_zeroed():
    rng = np.random.default_rng(1)
    a, b = _canonical(rng), _canonical(rng)
    kp = np.zeros((2, 2, 25, 3))
    kp[0, :] = a @ _rot('y', 40).T
    kp[1, 0] = b @ _rot('z', -120).T
    out = AlignSkeleton().transform(dict(keypoint=kp))['keypoint']
    flip = np.array([1, -1, 1])
    np.testing.assert_allclose(out[0, 1], a * flip, atol=1e-9)
    np.testing.assert_allclose(out[1, 0], b * flip, atol=1e-9)
    # a person absent in frame 0 (zero spine there) is zeroed everywhere,
    # as the release leaves its output at np.zeros_like
    late = kp.copy()
    late[1, 0], late[1, 1] = 0, b
    out = AlignSkeleton().transform(dict(keypoint=late))['keypoint']
    assert not out[1].any()
    kept = AlignSkeleton(zero_unaligned=False).transform(
        dict(keypoint=late))['keypoint']
    np.testing.assert_array_equal(kept[1], late[1])


def _released_rule(sample: np.ndarray) -> np.ndarray:
    """The release's formulas on one (C, T, V) person, with its own
    ``np.linalg.inv``, projection and loop over frames."""
    out = np.zeros_like(sample)
    v1 = sample[:, 0, 1] - sample[:, 0, 0]
    if np.linalg.norm(v1) <= 0.0:
        return out
    v1 = v1 / np.linalg.norm(v1)
    v2_ = sample[:, 0, 12] - sample[:, 0, 16]
    v2 = v2_ - np.dot(v1.T, v2_) * v1 / np.linalg.norm(v1)
    v2 = v2 / np.linalg.norm(v2)
    v3 = np.cross(v2, v1) / np.linalg.norm(np.cross(v2, v1))
    R = np.hstack([v2.reshape(3, 1), v3.reshape(3, 1), v1.reshape(3, 1)])
    for t in range(sample.shape[1]):
        out[:, t, :] = np.linalg.inv(R) @ sample[:, t, :]
    return out


def test_random_clip_matches_the_released_formulas():
    rng = np.random.default_rng(2)
    kp = rng.normal(size=(2, 6, 25, 3))
    kp[:, 4:] = 0  # padded tail
    out = AlignSkeleton().transform(dict(keypoint=kp))['keypoint']
    for m in range(2):
        want = _released_rule(kp[m].transpose(2, 0, 1)).transpose(1, 2, 0)
        np.testing.assert_allclose(out[m], want, atol=1e-12)
    # a rotation alone: lengths are kept
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1),
                               np.linalg.norm(kp, axis=-1), atol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match='C=2'):
        AlignSkeleton().transform(dict(keypoint=np.ones((1, 4, 25, 2))))
    with pytest.raises(ValueError, match='does not fit'):
        AlignSkeleton().transform(dict(keypoint=np.ones((1, 4, 15, 3))))
