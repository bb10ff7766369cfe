import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose, assert_array_equal

import mmskelcl  # noqa: F401
from mmaction.datasets.transforms import FormatGCNInput, PoseDecode
from mmskelcl.datasets.transforms import (CenterJoint, CropResizeFrames,
                                          MinMaxNormalize,
                                          RandomSortedSampleFrames)
from mmskelcl.datasets.transforms.temporal import resize_linear


def _ramp(valid=6, pad_before=0, pad_after=4, num_person=2, num_joints=3):
    """keypoint[m, t, v, c] = frame number (1..valid) in valid frames,
    zero padding around them; person 1 misses its last two valid frames."""
    values = np.arange(1, valid + 1, dtype=np.float32)
    frames = np.concatenate([np.zeros(pad_before), values,
                             np.zeros(pad_after)]).astype(np.float32)
    kp = np.broadcast_to(frames[None, :, None, None],
                         (num_person, len(frames), num_joints, 3)).copy()
    kp[1, pad_before + valid - 2:] = 0
    return kp


class TestCropResizeFrames:

    def test_centre_crop_hand_computed(self):
        kp = _ramp()  # valid frames hold 1..6, four padding frames
        score = kp[..., 0] / 10
        t = CropResizeFrames(clip_len=4, p_interval=(0.5, ), test_mode=True)
        out = t(dict(keypoint=kp, keypoint_score=score, total_frames=10))
        # bias = int(0.5 * 6 / 2) = 1: frames 2..5, already 4 long
        assert_allclose(out['keypoint'][0, :, 0, 0], [2, 3, 4, 5])
        assert_allclose(out['keypoint_score'][0, :, 0], [.2, .3, .4, .5],
                        rtol=1e-6)
        assert out['keypoint'].dtype == np.float32
        assert out['keypoint'].shape == (2, 4, 3, 3)
        assert (out['clip_len'], out['num_clips']) == (4, 1)
        assert out['total_frames'] == 10
        # upsampling to 8 (align_corners=False): src = 0.5 i - 0.25
        t = CropResizeFrames(clip_len=8, p_interval=0.5)
        out = t(dict(keypoint=kp))
        assert_allclose(out['keypoint'][0, :, 1, 2],
                        [2, 2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5])

    def test_leading_padding(self):
        kp = _ramp(pad_before=3, pad_after=1)
        out = CropResizeFrames(clip_len=6, p_interval=(1.0, ))(
            dict(keypoint=kp))
        assert_allclose(out['keypoint'][0, :, 0, 0], [1, 2, 3, 4, 5, 6])

    def test_random_crop_hand_computed(self, monkeypatch):
        kp = _ramp()
        monkeypatch.setattr(np.random, 'rand', lambda *a: 0.5)
        monkeypatch.setattr(np.random, 'randint', lambda low, high: 2)
        # p = 0.5 * (1.0 - 0.5) + 0.5 = 0.75 -> floor(6 * 0.75) = 4 frames,
        # start 2: frames with values 3..6
        t = CropResizeFrames(clip_len=4, p_interval=(0.5, 1.0), min_frames=2)
        assert_allclose(t(dict(keypoint=kp))['keypoint'][0, :, 0, 0],
                        [3, 4, 5, 6])
        # min_frames raises the length to max(4, 5) = 5; the start is drawn
        # from randint(0, 6 - 5 + 1), patched to its largest value 1
        seen = {}
        monkeypatch.setattr(np.random, 'randint',
                            lambda low, high: seen.setdefault('hi', high) - 1)
        t = CropResizeFrames(clip_len=5, p_interval=(0.5, 1.0), min_frames=5)
        out = t(dict(keypoint=kp))['keypoint']
        assert seen['hi'] == 6 - 5 + 1
        assert_allclose(out[0, :, 0, 0], [2, 3, 4, 5, 6])
        # person 1 has two padding frames at the end of the crop
        assert_allclose(out[1, :, 0, 0], [2, 3, 4, 0, 0])

    def test_random_crop_statistics(self):
        np.random.seed(0)
        kp = _ramp(valid=100, pad_after=20)
        t = CropResizeFrames(clip_len=16, p_interval=(0.5, 1.0))
        for _ in range(20):
            out = t(dict(keypoint=kp))['keypoint'][0, :, 0, 0]
            assert out.shape == (16, )
            assert np.all(np.diff(out) > 0)  # order kept, no padding
            assert out[0] >= 1 and out[-1] <= 100
            assert out[-1] - out[0] >= 50 * 15 / 16 - 1

    def test_matches_torch_interpolate(self):
        rng = np.random.default_rng(0)
        for src, dst in ((7, 64), (300, 64), (64, 64), (1, 5), (65, 64)):
            x = rng.normal(size=(2, src, 5, 3)).astype(np.float32)
            ref = F.interpolate(
                torch.from_numpy(x).permute(0, 2, 3, 1).reshape(1, 1, -1,
                                                                 src),
                size=(30, dst), mode='bilinear', align_corners=False)
            ref = ref.reshape(2, 5, 3, dst).permute(0, 3, 1, 2).numpy()
            assert_allclose(resize_linear(x, dst), ref, atol=1e-5)

    def test_feeds_format_gcn_input(self):
        kp = _ramp(num_joints=25)
        out = CropResizeFrames(clip_len=8, p_interval=(0.95, ),
                               test_mode=True)(dict(keypoint=kp))
        out = FormatGCNInput(num_person=2)(out)
        assert out['keypoint'].shape == (1, 2, 8, 25, 3)

    def test_all_zero_and_errors(self):
        out = CropResizeFrames(clip_len=4, p_interval=(0.9, ))(
            dict(keypoint=np.zeros((1, 3, 2, 3))))
        assert out['keypoint'].shape == (1, 4, 2, 3)
        with pytest.raises(ValueError, match='one p_interval value'):
            CropResizeFrames(test_mode=True)
        with pytest.raises(ValueError, match='p_interval'):
            CropResizeFrames(p_interval=(0.9, 0.5))


class TestRandomSortedSampleFrames:

    def test_test_mode_linspace(self):
        out = RandomSortedSampleFrames(clip_len=4, test_mode=True)(
            dict(total_frames=10))
        assert_array_equal(out['frame_inds'], [0, 3, 6, 9])
        out = RandomSortedSampleFrames(clip_len=5, test_mode=True)(
            dict(total_frames=3))
        # linspace(0, 2, 5) = 0, .5, 1, 1.5, 2 -> truncated
        assert_array_equal(out['frame_inds'], [0, 0, 1, 1, 2])
        assert (out['clip_len'], out['num_clips']) == (5, 1)

    def test_train_sorted_with_bounded_repeats(self):
        np.random.seed(0)
        t = RandomSortedSampleFrames(clip_len=52, repeat=3)
        for total in (1, 20, 52, 200):
            if total * 3 < 52:
                with pytest.raises(ValueError, match='Cannot draw'):
                    t(dict(total_frames=total))
                continue
            inds = t(dict(total_frames=total))['frame_inds']
            assert inds.shape == (52, )
            assert np.all(np.diff(inds) >= 0)
            assert inds.min() >= 0 and inds.max() < total
            assert np.bincount(inds).max() <= 3
        assert_array_equal(
            RandomSortedSampleFrames(clip_len=4)(dict(total_frames=1))[
                'frame_inds'], [0, 0, 0, 0])

    def test_then_pose_decode(self):
        kp = np.random.rand(1, 30, 20, 3).astype(np.float32)
        results = RandomSortedSampleFrames(clip_len=52)(
            dict(keypoint=kp, total_frames=30))
        out = PoseDecode()(results)
        assert out['keypoint'].shape == (1, 52, 20, 3)
        assert_allclose(out['keypoint'], kp[:, results['frame_inds']])


class TestNormalize:

    def test_center_joint(self):
        kp = np.zeros((2, 3, 3, 3), dtype=np.float32)
        kp[0, 1:] = np.arange(2 * 3 * 3).reshape(2, 3, 3) + 1
        kp[1, 1] = 5
        out = CenterJoint(joint=1)(dict(keypoint=kp))['keypoint']
        centre = kp[0, 1, 1]  # frame 0 of person 0 is padding
        assert_allclose(out[0, 1:], kp[0, 1:] - centre)
        assert_allclose(out[1, 1], kp[1, 1] - centre)
        assert not out[:, 0].any() and not out[1, 2].any()
        out = CenterJoint(joint=0, frame=2)(dict(keypoint=kp))['keypoint']
        assert_allclose(out[0, 2, 0], 0)

    def test_min_max(self):
        kp = np.zeros((2, 3, 2, 3), dtype=np.float32)
        kp[0, :, 0, 0] = [0, 2, 4]
        kp[0, :, 1, 0] = [1, 3, 1]
        kp[0, :, :, 1] = 7  # constant channel
        kp[0, :, :, 2] = -1
        kp[0, 0, 0, 2] = 1
        kp[1, 0] = [[4, 7, -1], [0, 7, -1]]  # person 1 only in frame 0
        out = MinMaxNormalize()(dict(keypoint=kp))['keypoint']
        assert_allclose(out[0, :, 0, 0], [-1, 0, 1])
        assert_allclose(out[0, :, 1, 0], [-0.5, 0.5, -0.5])
        assert_allclose(out[..., 1][kp[..., 1] != 0], 0)
        assert out[0, 0, 0, 2] == 1 and out[0, 1, 0, 2] == -1
        assert not out[1, 1:].any()  # padding stays zero
        out = MinMaxNormalize(low=0, high=10)(dict(keypoint=kp))['keypoint']
        assert_allclose(out[0, :, 0, 0], [0, 5, 10])
        with pytest.raises(ValueError):
            MinMaxNormalize(low=1, high=1)
