"""SkeAttnCLR's offline preprocessing against the release's rules
(feeder/NTUDatasets.py: ``get_length``, ``real_resize``,
``parallel_skeleton``), transcribed here on small hand examples."""
import cv2
import numpy as np
import pytest

from mmskelcl.datasets.transforms import AlignShoulders, CropResizeFrames


def released_parallel_skeleton(person):
    """``parallel_skeleton`` on one person ``(T, V, 3)`` (the release works
    on ``(C, T, V)``): ``vec = joint 8 - joint 4`` with y zeroed, the angle
    ``arccos(x / (|v| + 1e-4))`` in degrees, negated for the whole sequence
    when ``sum_t v_z >= 0``, then ``_y_transmat`` frame by frame."""
    vec = (person[:, 8] - person[:, 4]).T.copy()  # (3, T)
    vec[1, :] = 0
    l2 = np.sqrt(np.sum(np.square(vec), axis=0))
    thetas = np.arccos(vec[0, :] / (l2 + 0.0001)) * (180 / np.pi)
    if np.sum(vec[2, :]) >= 0:
        thetas = -thetas
    out = []
    for theta, frame in zip(thetas * np.pi / 180, person):
        tm = np.zeros((3, 3))
        tm[0, 0] = np.cos(theta)
        tm[0, 2] = -np.sin(theta)
        tm[1, 1] = 1
        tm[2, 0] = np.sin(theta)
        tm[2, 2] = np.cos(theta)
        out.append(np.dot(tm, frame.T).T)
    return np.stack(out)


def _person(angles_deg, seed=0):
    """A person whose shoulder vector (joint 8 - joint 4) has the given
    x-z angles (positive = +z), other joints random."""
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(len(angles_deg), 25, 3))
    a = np.deg2rad(np.asarray(angles_deg, float))
    p[:, 4] = p[:, 8] - 0.4 * np.stack(
        [np.cos(a), rng.normal(size=len(a)), np.sin(a)], 1)
    return p


@pytest.mark.parametrize('angles', [
    # the shoulder vector crosses the x axis: z changes sign, sum z > 0
    [30, 25, 20, 10, 5, -5, -15, -20],
    # the same, sum z < 0
    [10, 5, -5, -15, -20, -30, -40, -35],
])
def test_shoulder_alignment_is_the_released_rule(angles):
    kp = np.stack([_person(angles), _person(angles[::-1], seed=1)])
    out = AlignShoulders()(dict(keypoint=kp.copy()))['keypoint']
    for m in range(2):
        np.testing.assert_allclose(out[m],
                                   released_parallel_skeleton(kp[m]),
                                   atol=1e-10)
    # the per-frame switch puts every frame on +x; the released rule only
    # the frames whose z sign is the sequence's, the others end at twice
    # their angle from +x
    frame = AlignShoulders(sign='frame')(dict(keypoint=kp.copy()))['keypoint']
    a = np.asarray(angles, float)
    sign = 1 if a.sum() >= 0 else -1
    v_rel = out[0, :, 8] - out[0, :, 4]
    v_frm = frame[0, :, 8] - frame[0, :, 4]
    np.testing.assert_allclose(v_frm[:, 2], 0, atol=1e-12)
    got = np.rad2deg(np.arctan2(v_rel[:, 2], v_rel[:, 0]))
    expect = np.where(np.sign(a) == sign, 0.0, 2 * a)
    # up to 0.2 degrees from eps = 1e-4 near the x axis
    np.testing.assert_allclose(got, expect, atol=0.5)
    assert (np.abs(expect) > 0).sum() >= 2  # frames the two rules differ on


def test_shoulder_alignment_zero_vector_and_padding():
    kp = np.stack([_person([20, 20, 20]), np.zeros((3, 25, 3))])
    kp[0, 1, 4] = kp[0, 1, 8]  # shoulders coincide in frame 1
    out = AlignShoulders()(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_allclose(out[0], released_parallel_skeleton(kp[0]),
                               atol=1e-10)
    # released: v = 0 gives arccos(0), a 90-degree turn of that frame
    p, q = kp[0, 1, 0], out[0, 1, 0]
    np.testing.assert_allclose([q[0], q[2]], [p[2], -p[0]], atol=1e-10)
    assert (out[1] == 0).all()  # a missing person stays zero
    kept = AlignShoulders(sign='frame')(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_allclose(kept[0, 1], kp[0, 1])  # switch: unchanged


def released_length_and_resize(data, window=64):
    """``get_length`` (person 0, joint 1 non-zero) and ``real_resize``
    (first ``length`` frames, cv2 bilinear per person) on ``(M, T, V, C)``.
    """
    length = (np.abs(data[0, :, 0, :]).sum(axis=-1) != 0).sum()
    out = np.zeros((data.shape[0], window) + data.shape[2:], np.float32)
    for m in range(data.shape[0]):
        V = data.shape[2]
        out[m] = cv2.resize(data[m, :length], (V, window),
                            interpolation=cv2.INTER_LINEAR)
    return length, out


def test_valid_length_is_person0_joint1():
    rng = np.random.default_rng(0)
    kp = np.zeros((2, 30, 25, 3), np.float32)
    kp[0, :12] = rng.normal(size=(12, 25, 3))  # person 0: frames 0-11
    kp[1, 2:17] = rng.normal(size=(15, 25, 3))  # person 1: frames 2-16
    length, ref = released_length_and_resize(kp, 20)
    assert length == 12
    out = CropResizeFrames(clip_len=20, p_interval=(1.0, ), test_mode=True,
                           valid_joint=0)(dict(keypoint=kp.copy()))
    np.testing.assert_allclose(out['keypoint'], ref, atol=1e-5)
    # the default (any person, first..last valid frame) resizes 17 frames
    span = CropResizeFrames(clip_len=20, p_interval=(1.0, ),
                            test_mode=True)(dict(keypoint=kp.copy()))
    assert not np.allclose(span['keypoint'], ref, atol=1e-3)
    _, ref17 = released_length_and_resize(
        np.concatenate([np.ones_like(kp[:1, :17]), kp[:, :17]]), 20)
    np.testing.assert_allclose(span['keypoint'], ref17[1:], atol=1e-5)
