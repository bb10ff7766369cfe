"""Self-supervised pretraining transforms against hand computations."""
import numpy as np
import pytest
from mmaction.datasets.transforms import FormatGCNInput, PackActionInputs

from mmskelcl.datasets.transforms import (AlignShoulders, CenterJointPerFrame,
                                          ContrastiveViews, RandomShear,
                                          TemporalMirrorCrop)


def _kp(T=12, seed=0):
    return np.random.default_rng(seed).normal(size=(2, T, 25, 3)).astype(
        np.float32)


def test_shear_by_hand():
    kp = _kp()
    shear = RandomShear(0.5)
    a = [0.1, -0.2, 0.3, 0.05, -0.4, 0.25]
    shear._sample_matrix = lambda: np.array(
        [[1, a[0], a[1]], [a[2], 1, a[3]], [a[4], a[5], 1]])
    out = shear(dict(keypoint=kp.copy()))['keypoint']
    x, y, z = kp[1, 3, 7]
    expected = [x + a[0] * y + a[1] * z, a[2] * x + y + a[3] * z,
                a[4] * x + a[5] * y + z]
    np.testing.assert_allclose(out[1, 3, 7], expected, rtol=1e-5)
    # 2D: the x-y block of the same matrix
    out2 = shear(dict(keypoint=kp[..., :2].copy()))['keypoint']
    np.testing.assert_allclose(out2[1, 3, 7], [x + a[0] * y, a[2] * x + y],
                               rtol=1e-5)
    np.random.seed(0)
    draws = [RandomShear(0.5)._sample_matrix() for _ in range(200)]
    off = np.array([d[~np.eye(3, dtype=bool)] for d in draws])
    assert np.abs(off).max() <= 0.5 and np.abs(off).max() > 0.45
    assert all(np.allclose(np.diag(d), 1) for d in draws)


def released_temperal_crop(x, start, ratio=6):
    """The release's ``temperal_crop`` (feeder/tools.py) on ``(M, T, ...)``
    with the start drawn given."""
    T = x.shape[1]
    pad = T // ratio
    x = np.concatenate((x[:, :pad][:, ::-1], x, x[:, -pad:][:, ::-1]),
                       axis=1)
    return x[:, start:start + T]


# symmetric-padded 0..11 (pad 2, released): [1, 0, 0, 1, ..., 11, 11, 10];
# reflect-padded (switch): [2, 1, 0, 1, ..., 11, 10, 9]
@pytest.mark.parametrize('mode,start,frames', [
    ('symmetric', 0, [1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ('symmetric', 2, list(range(12))),
    ('symmetric', 3, list(range(1, 12)) + [11]),
    ('symmetric', 4, list(range(2, 12)) + [11, 10]),
    ('reflect', 0, [2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ('reflect', 2, list(range(12))),
    ('reflect', 4, list(range(2, 12)) + [10, 9]),
])
def test_temporal_mirror_crop_by_hand(monkeypatch, mode, start, frames):
    T = 12  # padding_ratio 6 -> 2 frames each side, starts 0..4
    kp = np.broadcast_to(np.arange(T, dtype=np.float32)[None, :, None, None],
                         (2, T, 25, 3)).copy()
    calls = []

    def randint(low, high):
        calls.append((low, high))
        return start

    monkeypatch.setattr(np.random, 'randint', randint)
    res = TemporalMirrorCrop(6, mode=mode)(dict(
        keypoint=kp, keypoint_score=kp[..., 0].copy()))
    assert calls == [(0, 5)]  # U{0 .. 2 * pad}
    np.testing.assert_array_equal(res['keypoint'][0, :, 0, 0], frames)
    np.testing.assert_array_equal(res['keypoint_score'][1, :, 3], frames)
    if mode == 'symmetric':  # the default is the release's rule
        rnd = _kp(T=T)
        monkeypatch.setattr(np.random, 'randint', lambda lo, hi: start)
        np.testing.assert_array_equal(
            TemporalMirrorCrop()(dict(keypoint=rnd.copy()))['keypoint'],
            released_temperal_crop(rnd, start))
    with pytest.raises(ValueError, match='mode'):
        TemporalMirrorCrop(mode='edge')


def test_views_on_the_clip_axis_through_mmaction_packing():
    kp = _kp(T=12)
    np.random.seed(1)
    views = ContrastiveViews(
        [dict(type='TemporalMirrorCrop'), dict(type='RandomShear')])
    res = views(dict(keypoint=kp.copy(), label=0))
    assert res['keypoint'].shape == (2, 24, 25, 3)
    assert res['num_clips'] == 2 and res['clip_len'] == 12
    res = FormatGCNInput(num_person=2)(res)
    packed = PackActionInputs()(res)
    inputs = packed['inputs']
    assert tuple(inputs.shape) == (2, 2, 12, 25, 3)
    assert not np.allclose(inputs[0].numpy(), inputs[1].numpy())
    # with no augmentation both views are the sample itself
    same = ContrastiveViews([], num_views=2)(dict(keypoint=kp.copy()))
    same = FormatGCNInput(num_person=2)(same)['keypoint']
    np.testing.assert_array_equal(same[0], kp)
    np.testing.assert_array_equal(same[1], kp)
    assert np.array_equal(kp, _kp(T=12))  # input untouched


def test_center_per_frame_and_align_shoulders():
    kp = _kp(T=6)
    kp[1, 4:] = 0  # padding
    out = CenterJointPerFrame(20)(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_allclose(out[0, :, 20], 0)
    np.testing.assert_allclose(out[0, 2, 3], kp[0, 2, 3] - kp[0, 2, 20])
    assert (out[1, 4:] == 0).all()
    # per-frame rule (switch): every frame's shoulder vector on +x
    al = AlignShoulders(sign='frame')(dict(keypoint=out.copy()))['keypoint']
    vec = al[:, :4, 8] - al[:, :4, 4]
    np.testing.assert_allclose(vec[..., 2], 0, atol=1e-5)
    assert (vec[..., 0] > 0).all()
    for al in (al, AlignShoulders()(dict(keypoint=out.copy()))['keypoint']):
        # a rotation about y: y kept, distances kept, padding kept
        np.testing.assert_allclose(al[..., 1], out[..., 1], atol=1e-6)
        np.testing.assert_allclose(
            np.linalg.norm(al[0, 1, 3] - al[0, 1, 9]),
            np.linalg.norm(out[0, 1, 3] - out[0, 1, 9]), rtol=1e-5)
        assert (al[1, 4:] == 0).all()
    with pytest.raises(ValueError, match='2D or 3D'):
        RandomShear()(dict(keypoint=kp[..., :1].copy()))
