import hashlib
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmskelcl.utils.demo_data import (PAIRS, class_names,
                                      evaluate_handcrafted_baseline,
                                      generate_demo_annotations,
                                      generate_demo_dataset)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def _sha256(path) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope='module')
def demo_file(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo') / 'sub' / 'demo.pkl'
    assert generate_demo_dataset(str(out), seed=0) == str(out)
    return out


@pytest.fixture(scope='module')
def demo(demo_file):
    with open(demo_file, 'rb') as f:
        return pickle.load(f)


def test_deterministic(demo_file, tmp_path):
    again = tmp_path / 'again.pkl'
    generate_demo_dataset(str(again), seed=0)
    assert _sha256(again) == _sha256(demo_file)
    other = tmp_path / 'other.pkl'
    generate_demo_dataset(str(other), seed=1)
    assert _sha256(other) != _sha256(demo_file)
    # atomic write leaves no temporary file behind
    assert sorted(os.listdir(tmp_path)) == ['again.pkl', 'other.pkl']


def test_format(demo):
    assert set(demo) == {'split', 'annotations'}
    anns = demo['annotations']
    assert len(anns) == 8 * 40
    keys = {
        'frame_dir', 'label', 'total_frames', 'img_shape', 'original_shape',
        'keypoint', 'keypoint_score'
    }
    for ann in anns:
        assert set(ann) == keys
        assert isinstance(ann['frame_dir'], str)
        assert isinstance(ann['label'], int)
        T = ann['total_frames']
        assert isinstance(T, int) and 30 <= T <= 80
        h, w = ann['img_shape']
        assert ann['original_shape'] == ann['img_shape']
        assert ann['keypoint'].dtype == np.float16
        assert ann['keypoint'].shape == (1, T, 17, 2)
        assert ann['keypoint_score'].dtype == np.float16
        assert ann['keypoint_score'].shape == (1, T, 17)
        kp = ann['keypoint'].astype(np.float32)
        assert np.isfinite(kp).all()
        # pixel coordinates: the body lies (mostly) inside the image
        centre = np.median(kp.reshape(-1, 2), axis=0)
        assert 0 < centre[0] < w and 0 < centre[1] < h
        score = ann['keypoint_score'].astype(np.float32)
        assert score.min() >= 0 and score.max() <= 1
    ids = [a['frame_dir'] for a in anns]
    assert len(set(ids)) == len(ids)
    # labels 0..K-1, balanced
    labels = np.array([a['label'] for a in anns])
    assert np.bincount(labels).tolist() == [40] * 8
    # variable length, several image sizes, some low-score joints
    lengths = {a['total_frames'] for a in anns}
    assert len(lengths) > 20
    assert len({a['img_shape'] for a in anns}) > 1
    scores = np.concatenate([a['keypoint_score'].ravel() for a in anns])
    low = (scores.astype(np.float32) < 0.35).mean()
    assert 0.005 < low < 0.2


def test_splits(demo):
    train, val = demo['split']['train'], demo['split']['val']
    ids = {a['frame_dir'] for a in demo['annotations']}
    assert not set(train) & set(val)
    assert set(train) | set(val) == ids
    assert len(val) / len(ids) == pytest.approx(0.25, abs=0.05)
    # cross-subject: no performer in both splits; every class in both
    assert not {i[:3] for i in train} & {i[:3] for i in val}
    label = {a['frame_dir']: a['label'] for a in demo['annotations']}
    assert {label[i] for i in train} == set(range(8))
    assert {label[i] for i in val} == set(range(8))


def test_pairs_and_options():
    names = class_names(4)
    assert len(names) == 8 and len(set(names)) == 8
    # labels 2k and 2k+1 are the two variants of pair k
    for k in range(4):
        assert (names[2 * k], names[2 * k + 1]) == PAIRS[k][:2]
    small = generate_demo_annotations(
        seed=3,
        num_pairs=len(PAIRS),
        clips_per_class=4,
        num_subjects=4,
        val_subjects=1,
        min_frames=20,
        max_frames=24)
    labels = sorted({a['label'] for a in small['annotations']})
    assert labels == list(range(2 * len(PAIRS)))
    assert all(20 <= a['total_frames'] <= 24 for a in small['annotations'])
    with pytest.raises(ValueError):
        generate_demo_annotations(num_pairs=len(PAIRS) + 1)
    with pytest.raises(ValueError):
        generate_demo_annotations(val_subjects=0)


def test_pair_members_are_near_identical(demo):
    """Mean poses of the two classes of a pair are closer than across."""
    by_label = {}
    for ann in demo['annotations']:
        kp = ann['keypoint'][0].astype(np.float64)
        hips = kp[:, 11:13].mean(1)
        torso = np.linalg.norm(kp[:, 5:7].mean(1) - hips, axis=-1).mean()
        pose = ((kp - hips[:, None]) / torso).mean(0).ravel()
        by_label.setdefault(ann['label'], []).append(pose)
    means = np.stack([np.mean(by_label[c], 0) for c in range(8)])
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1)
    for c in range(8):
        mate = c ^ 1
        others = [d for d in range(8) if d not in (c, mate)]
        assert dist[c, mate] < dist[c, others].min()


def test_learnable_but_fine_grained(demo):
    res = evaluate_handcrafted_baseline(demo)
    # well above chance (1/8) ...
    assert res['top1'] > 0.45
    assert res['nearest_mean_top1'] > 0.35
    # ... the pair is easy to find ...
    assert res['pair_top1'] > 0.9
    # ... and the errors are confusions inside the pairs
    assert res['within_pair_error_fraction'] > 0.8
    assert res['top1'] < 0.9


def test_cli(tmp_path):
    out = tmp_path / 'cli.pkl'
    proc = subprocess.run([
        sys.executable, '-m', 'mmskelcl.utils.demo_data',
        str(out), '--seed', '5', '--clips-per-class', '8', '--num-pairs', '2'
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert len(data['annotations']) == 4 * 8
    ref = tmp_path / 'ref.pkl'
    generate_demo_dataset(str(ref), seed=5, clips_per_class=8, num_pairs=2)
    assert _sha256(ref) == _sha256(out)
