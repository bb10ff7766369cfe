"""NW-UCLA ``all_sqe/*.json`` (the CTR-GCN family's layout) to the pickle.

Every ``aAA_sSS_eEE_vVV.json`` holds ``{"file_name", "skeletons": [T][20][3]}``
(Kinect v1 joint order, the ``'nwucla'`` layout, kept unchanged; metres).
Actions a01-a06, a08, a09, a11, a12 become labels 0-9; views 1 and 2 are
``train`` and view 3 is ``val`` (the cross-view protocol).
"""
import json
import os
import os.path as osp
import pickle  # noqa: F401  (module surface kept: nwucla.pickle)
import re
from collections import Counter
from typing import Dict, Optional, Tuple

import numpy as np

from ..validation import assert_valid_annotations
from ._io import (ResumeCache, atomic_dump, ensure_parent, file_signature,
                  run_resumable)

ACTION_IDS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
LABELS = {a: i for i, a in enumerate(ACTION_IDS)}
CLASSES = ('pick up with one hand', 'pick up with two hands', 'drop trash',
           'walk around', 'sit down', 'stand up', 'donning', 'doffing',
           'throw', 'carry')
VIEW_SPLITS = {1: 'train', 2: 'train', 3: 'val'}
NUM_JOINTS = 20
NAME_RE = re.compile(r'^a(\d+)_s(\d+)_e(\d+)_v(\d+)$')
CACHE_VERSION = 1


class NWUCLAFormatError(ValueError):
    """A json file (or its name) does not follow the ``all_sqe`` format."""


def parse_name(stem: str, file: Optional[str] = None) -> Tuple[int, int]:
    """``'a08_s01_e02_v03'`` -> ``(label, view)``; errors name ``file``."""
    file = file or f'{stem}.json'
    m = NAME_RE.match(stem)
    if m is None:
        raise NWUCLAFormatError(f'{file}: name must be aAA_sSS_eEE_vVV.json')
    action, view = int(m.group(1)), int(m.group(4))
    if action not in LABELS:
        raise NWUCLAFormatError(
            f'{file}: unknown action id a{action:02d}; known: '
            f'{", ".join(f"a{a:02d}" for a in ACTION_IDS)}')
    if view not in VIEW_SPLITS:
        raise NWUCLAFormatError(f'{file}: unknown view v{view:02d}; known: '
                                f'{sorted(VIEW_SPLITS)}')
    return LABELS[action], view


def load_sequence(path: str) -> dict:
    """One json file as an annotation with ``keypoint`` (1, T, 20, 3)."""
    stem = osp.splitext(osp.basename(path))[0]
    label, _ = parse_name(stem, path)
    try:
        with open(path, encoding='utf-8') as f:
            raw = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise NWUCLAFormatError(f'{path}: invalid json ({e})') from e
    if not isinstance(raw, dict) or 'skeletons' not in raw:
        raise NWUCLAFormatError(f'{path}: no "skeletons" key (expected a '
                                'json object {"file_name", "skeletons"})')
    if 'label' in raw and raw['label'] != label + 1:  # 1-based there
        raise NWUCLAFormatError(
            f'{path}: "label" is {raw["label"]!r} but the action in the '
            f'file name gives {label + 1} (1-based)')
    try:
        kp = np.asarray(raw['skeletons'], dtype=np.float64)
    except (ValueError, TypeError) as e:  # ragged or non-numeric
        raise NWUCLAFormatError(f'{path}: "skeletons" is not a numeric '
                                f'[T][{NUM_JOINTS}][3] array ({e})') from e
    if kp.ndim != 3 or kp.shape[0] < 1 or kp.shape[1:] != (NUM_JOINTS, 3):
        raise NWUCLAFormatError(f'{path}: "skeletons" must have shape '
                                f'[T>=1][{NUM_JOINTS}][3], got {kp.shape}')
    if not np.isfinite(kp).all():
        raise NWUCLAFormatError(f'{path}: "skeletons" holds '
                                f'{int((~np.isfinite(kp)).sum())} NaN/inf')
    return dict(frame_dir=stem, label=label, total_frames=int(kp.shape[0]),
                keypoint=kp.astype(np.float32)[None])


def convert_nwucla(src_dir: str, out_file: str, resume: bool = True,
                   save_every: int = 100, progress: bool = True) -> dict:
    """Convert every ``src_dir/*.json`` and write ``out_file`` atomically.

    Converted items go to ``out_file + '.partial'`` every ``save_every``
    files and when the run fails, so a re-run with ``resume=True`` reads
    only the files that are new or changed (size / mtime) since; the cache
    is removed on success. Returns ``dict(split=..., annotations=...)``.
    """
    if save_every < 1:
        raise ValueError(f'save_every must be >= 1, got {save_every}')
    src_dir = osp.abspath(src_dir)
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'NW-UCLA source directory not found: '
                                f'{src_dir}')
    names = sorted(n for n in os.listdir(src_dir) if n.endswith('.json'))
    if not names:
        raise FileNotFoundError(
            f'no *.json files in {src_dir}: give the all_sqe/ folder of '
            'NW-UCLA, which holds one aAA_sSS_eEE_vVV.json per sequence '
            '(e.g. a01_s01_e00_v01.json; 1484 files)')
    ensure_parent(out_file)
    cache_file = out_file + '.partial'
    cache = ResumeCache(cache_file, dict(version=CACHE_VERSION,
                                         src_dir=src_dir),
                        resume=resume, save_every=save_every)
    items = run_resumable(
        ((name, file_signature(osp.join(src_dir, name))) for name in names),
        lambda name: load_sequence(osp.join(src_dir, name)), cache,
        desc='NW-UCLA', unit='file', progress=progress)
    annotations = [items[name] for name in names]
    split = {'train': [], 'val': []}
    for anno in annotations:
        split[VIEW_SPLITS[parse_name(anno['frame_dir'])[1]]].append(
            anno['frame_dir'])
    data = dict(split=split, annotations=annotations, classes=list(CLASSES))
    assert_valid_annotations(data, file=out_file, num_classes=len(LABELS))
    atomic_dump(data, out_file)
    cache.discard()
    return data


def summarize(data: dict) -> Dict[str, Counter]:
    """Samples per class label, for each split."""
    label = {a['frame_dir']: a['label'] for a in data['annotations']}
    return {name: Counter(label[i] for i in ids)
            for name, ids in data['split'].items()}
