"""Builders of tiny skeleton annotation pickles for the dataset tests."""
import hashlib
import pickle
from typing import Callable

import numpy as np
import pytest

import mmskelcl  # noqa: F401


def make_anno(frame_dir: str,
              label: int = 0,
              num_person: int = 2,
              num_frames: int = 6,
              num_joints: int = 25,
              num_channels: int = 3,
              score: bool = False,
              seed: int = 0) -> dict:
    """One annotation with random non-zero keypoints."""
    rng = np.random.default_rng(seed)
    anno = dict(
        frame_dir=frame_dir,
        total_frames=num_frames,
        label=label,
        keypoint=rng.uniform(
            0.1, 1, (num_person, num_frames, num_joints,
                     num_channels)).astype(np.float32))
    if score:
        anno['keypoint_score'] = rng.uniform(
            0.1, 1, (num_person, num_frames, num_joints)).astype(np.float32)
    return anno


def make_data(num: int = 4, **kwargs) -> dict:
    """``dict(split, annotations)`` with ids s0..s{num-1}; even ids train."""
    annos = [
        make_anno(f's{i}', label=i % 3, seed=i, **kwargs) for i in range(num)
    ]
    return dict(
        split=dict(
            train=[f's{i}' for i in range(0, num, 2)],
            val=[f's{i}' for i in range(1, num, 2)]),
        annotations=annos)


def sha256(path) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def write_pkl(tmp_path) -> Callable:
    """``write_pkl(obj, name)`` dumps ``obj`` to ``tmp_path / name``."""

    def _write(obj, name: str = 'skel_anno.pkl'):
        path = tmp_path / name
        with open(path, 'wb') as f:
            pickle.dump(obj, f)
        return path

    return _write


@pytest.fixture
def anno_factory() -> Callable:
    return make_anno


@pytest.fixture
def data_factory() -> Callable:
    return make_data


@pytest.fixture
def file_hash() -> Callable:
    return sha256
