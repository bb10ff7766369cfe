import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import mmskelcl  # noqa: F401
from mmaction.datasets.transforms import GenSkeFeat, JointToBone, ToMotion
from mmaction.registry import TRANSFORMS
from mmskelcl.structures.layouts import BONE_PAIRS, NUM_JOINTS
from mmskelcl.datasets.transforms import GenStreamFeat
from mmskelcl.datasets.transforms.features import (LayoutJointToBone,
                                                   LayoutToMotion)

FEATS = (['j'], ['b'], ['jm'], ['bm'], ['j', 'b'], ['j', 'jm', 'b', 'bm'])


def _sample(layout, score, seed=0, num_frames=5):
    rng = np.random.default_rng(seed)
    channels = 2 if score else 3
    results = dict(keypoint=rng.normal(
        size=(2, num_frames, NUM_JOINTS[layout], channels)).astype(
            np.float32))
    if score:
        results['keypoint_score'] = rng.uniform(
            size=(2, num_frames, NUM_JOINTS[layout])).astype(np.float32)
    return results


@pytest.mark.parametrize('layout,score', [('coco', True), ('coco', False),
                                          ('nturgb+d', False),
                                          ('openpose', True)])
@pytest.mark.parametrize('feats', FEATS)
def test_equals_mmaction_gen_ske_feat(layout, score, feats):
    results = _sample(layout, score)
    ours = GenStreamFeat(layout=layout, feats=tuple(feats))(
        copy.deepcopy(results))
    ref = GenSkeFeat(dataset=layout, feats=feats)(copy.deepcopy(results))
    assert set(ours) == {'keypoint'}  # MMAction2 also leaves 'j' / 'b'
    assert ours['keypoint'].shape[-1] == (3 * len(feats))
    assert_allclose(ours['keypoint'], ref['keypoint'], atol=1e-6)


@pytest.mark.parametrize('layout', ['coco', 'nturgb+d', 'openpose'])
def test_bone_and_motion_helpers_equal_mmaction(layout):
    kp = _sample(layout, False, seed=4)['keypoint']
    ours = LayoutJointToBone(layout=layout)(dict(keypoint=kp))['keypoint']
    ref = JointToBone(dataset=layout)(dict(keypoint=kp))['keypoint']
    assert_array_equal(ours, ref)
    ours = LayoutToMotion(layout=layout)(dict(keypoint=kp))['motion']
    ref = ToMotion(dataset=layout)(dict(keypoint=kp))['motion']
    assert_array_equal(ours, ref)


def _nwucla_joints(num_frames=3):
    """joint v at frame t = (v, 2 v, 3 v) + t * (1, 0, -1)."""
    v = np.arange(20, dtype=np.float32)[:, None] * np.array([1, 2, 3])
    t = np.arange(num_frames, dtype=np.float32)[:, None, None] * np.array(
        [1, 0, -1])
    return (v[None] + t)[None].astype(np.float32)  # (1, T, 20, 3)


def test_nwucla_bone_hand_computed():
    out = GenStreamFeat(layout='nwucla', feats=['b'])(
        dict(keypoint=_nwucla_joints()))['keypoint']
    unit = np.array([1, 2, 3])
    # bone[v] = (v - parent) * (1, 2, 3); parent 1 of 0, root 2, ...
    expected = {0: -1, 1: -1, 2: 0, 3: 1, 4: 2, 5: 1, 8: 6, 12: 12,
                16: 16, 19: 1}
    for joint, times in expected.items():
        assert_allclose(out[0, :, joint], np.tile(times * unit, (3, 1)))
    for joint, parent in BONE_PAIRS['nwucla']:
        assert_allclose(out[0, 1, joint], (joint - parent) * unit)


def test_nwucla_motion_hand_computed():
    kp = _nwucla_joints(num_frames=4)
    out = GenStreamFeat(layout='nwucla', feats=('jm', 'bm'))(
        dict(keypoint=kp))['keypoint']
    assert out.shape == (1, 4, 20, 6)
    # joints move by (1, 0, -1) per frame; bones do not move; last frame 0
    assert_allclose(out[0, :3, :, :3], np.broadcast_to([1, 0, -1],
                                                       (3, 20, 3)))
    assert_allclose(out[0, 3], 0)
    assert_allclose(out[..., 3:], 0)


def test_coco_score_is_averaged_hand_computed():
    kp = np.zeros((1, 2, 17, 2), dtype=np.float32)
    kp[0, :, 5] = [[1, 1], [4, 3]]  # left shoulder, parent: nose (0)
    kp[0, :, 7] = [[2, 2], [2, 2]]  # left elbow, parent: left shoulder
    score = np.zeros((1, 2, 17), dtype=np.float32)
    score[0, :, 0] = [0.2, 0.4]
    score[0, :, 5] = [0.6, 0.8]
    score[0, :, 7] = [1.0, 1.0]
    out = GenStreamFeat(layout='coco', feats=['b', 'jm'])(
        dict(keypoint=kp, keypoint_score=score))
    assert 'keypoint_score' not in out
    feat = out['keypoint']
    assert_allclose(feat[0, 0, 5, :3], [1, 1, 0.4])  # (0.6 + 0.2) / 2
    assert_allclose(feat[0, 1, 7, :3], [-2, -1, 0.9])  # (1.0 + 0.8) / 2
    assert_allclose(feat[0, 0, 5, 3:], [3, 2, 0.7])  # motion, mean score
    assert_allclose(feat[0, 1, 5, 3:], [0, 0, 0])


def test_errors_and_registry():
    with pytest.raises(ValueError, match='Unknown skeleton layout'):
        GenStreamFeat(layout='hand')
    with pytest.raises(ValueError, match='feats'):
        GenStreamFeat(layout='coco', feats=['j', 'x'])
    with pytest.raises(ValueError, match='no score channel'):
        GenStreamFeat(layout='nwucla')(
            dict(keypoint=np.ones((1, 2, 20, 2)),
                 keypoint_score=np.ones((1, 2, 20))))
    t = TRANSFORMS.build(dict(type='GenStreamFeat', layout='nwucla',
                              feats=('j', 'b')))
    assert t.feats == ['j', 'b'] and 'nwucla' in repr(t)
    assert GenStreamFeat(layout='coco', feats='b').feats == ['b']


def _ntu_two_persons():
    """Person 0: joint v at frame t = (v, 2 v + t, 5); person 1: frame 0
    joint v = (1, v, -v), frame 1 padding (all zero)."""
    kp = np.zeros((2, 2, 25, 3), dtype=np.float32)
    v = np.arange(25, dtype=np.float32)
    for t in range(2):
        kp[0, t] = np.stack([v, 2 * v + t, np.full(25, 5.)], -1)
    kp[1, 0] = np.stack([np.ones(25), v, -v], -1)
    return kp


def test_frame_center_joint_stream_hand_computed():
    out = GenStreamFeat(layout='nturgb+d', feats=['j', 'jm'],
                        frame_center=True)(
                            dict(keypoint=_ntu_two_persons()))['keypoint']
    j, jm = out[..., :3], out[..., 3:]
    # NTU centre: joint 21 (index 20), from the layout's graph
    assert_allclose(j[0, 1, 3], [3 - 20, 2 * 3 - 40, 0])
    assert_allclose(j[0, 0, 0], [-20, -40, 0])
    assert_allclose(j[0, 1, 20], [20, 41, 5])  # its own trajectory
    assert_allclose(j[1, 0, 0], [0, -20, 20])
    assert_allclose(j[1, 0, 20], [1, 20, -20])
    assert_allclose(j[1, 1], 0)  # padding stays zero
    # motion after centring: only the centre joint moves, by (0, 1, 0)
    assert_allclose(jm[0, 0, 20], [0, 1, 0])
    assert_allclose(np.delete(jm[0, 0], 20, axis=0), 0)
    assert_allclose(jm[:, 1], 0)


def test_frame_center_bone_stream_hand_computed():
    out = GenStreamFeat(layout='nturgb+d', feats=['b', 'bm'],
                        frame_center=True)(
                            dict(keypoint=_ntu_two_persons()))['keypoint']
    b, bm = out[..., :3], out[..., 3:]
    assert_allclose(b[0, 1, 20], [20, 41, 5])  # replaces the zero self-bone
    assert_allclose(b[0, 1, 3], [1, 2, 0])  # joint 4 - joint 3, unchanged
    assert_allclose(b[0, 0, 1], [1 - 20, 2 - 40, 0])  # parent: the centre
    assert_allclose(b[1, 0, 20], [1, 20, -20])
    assert_allclose(b[1, 1], 0)
    assert_allclose(bm[0, 0, 20], [0, 1, 0])
    assert_allclose(np.delete(bm[0, 0], 20, axis=0), 0)
    plain = GenStreamFeat(layout='nturgb+d', feats=['b'])(
        dict(keypoint=_ntu_two_persons()))['keypoint']
    assert_allclose(np.delete(b, 20, axis=2), np.delete(plain, 20, axis=2))
    assert_allclose(plain[:, :, 20], 0)


def _released_hyperformer_streams(data, center, pairs):
    """Hyperformer's feeder arithmetic, (C, T, V, M) as released: joint
    stream per-frame centred with the centre's trajectory kept; bone
    stream with the centre's position in place of its self-bone; motion
    of either afterwards."""
    traj = data[:, :, center].copy()
    joint = data - data[:, :, center:center + 1]
    joint[:, :, center] = traj
    bone = np.zeros_like(data)
    for v, p in pairs:
        bone[:, :, v] = data[:, :, v] - data[:, :, p]
    bone[:, :, center] = data[:, :, center]
    out = {'j': joint, 'b': bone}
    for key in ('j', 'b'):
        motion = np.zeros_like(out[key])
        motion[:, :-1] = out[key][:, 1:] - out[key][:, :-1]
        out[key + 'm'] = motion
    return out


@pytest.mark.parametrize('layout,center', [('nturgb+d', 20), ('nwucla', 2)])
def test_frame_center_equals_the_released_feeder(layout, center):
    kp = _sample(layout, False, seed=7, num_frames=6)['keypoint']
    ref = _released_hyperformer_streams(kp.transpose(3, 1, 2, 0), center,
                                        BONE_PAIRS[layout])
    t = GenStreamFeat(layout=layout, feats=('j', 'b', 'jm', 'bm'),
                      frame_center=True)
    assert t.center == center and 'frame_center=True' in repr(t)
    out = t(dict(keypoint=kp.copy()))['keypoint']
    for i, key in enumerate(('j', 'b', 'jm', 'bm')):
        assert_allclose(out[..., 3 * i:3 * i + 3],
                        ref[key].transpose(3, 1, 2, 0), atol=1e-6)


def test_frame_center_leaves_scores_and_checks_the_layout():
    kp = np.zeros((1, 1, 17, 2), dtype=np.float32)
    kp[0, 0, 0] = [3, 4]  # COCO centre: the nose (index 0), a root
    kp[0, 0, 5] = [5, 5]
    score = np.full((1, 1, 17), 0.5, dtype=np.float32)
    out = GenStreamFeat(layout='coco', feats=['j', 'b'], frame_center=True)(
        dict(keypoint=kp, keypoint_score=score))['keypoint']
    assert_allclose(out[0, 0, 5], [2, 1, 0.5, 2, 1, 0.5])
    assert_allclose(out[0, 0, 0], [3, 4, 0.5, 3, 4, 0.5])
    # OpenPose's centre (neck, index 1) has a bone to the nose
    with pytest.raises(ValueError, match='frame_center=False'):
        GenStreamFeat(layout='openpose', frame_center=True)
