"""PKU-MMD Part I / Part II skeletons and action labels to the pickle.

The release holds, per untrimmed video ``NAME`` (e.g. ``0002-L`` in Part I):

* ``skeleton_dir/NAME.txt``: one row per frame (30 fps) of 150 numbers, two
  bodies of 25 Kinect v2 joints ``x1 y1 z1 ... x25 y25 z25`` (the
  ``'nturgb+d'`` layout, metres); a missing second body is all zeros;
* ``label_dir/NAME.txt``: one row per action, ``action_id, start_frame,
  end_frame, confidence`` with ``action_id`` in 1-51;
* split lists (``cross-subject.txt``, ``cross-view.txt`` and their Part II
  counterparts): a ``Training videos:`` line, the comma-separated training
  names, a ``Validation videos:`` line (spelled ``Validataion`` in the
  release), the comma-separated test names.

Every labelled action is cut from its video as one clip, the
SkeletonCLR/AimCLR-era preprocessing: frames ``[start_frame, end_frame)``
of the 0-based frame rows (an ``end_frame`` past the last row is clipped to
it with a warning). A body that is all zeros over the whole clip is dropped,
so ``keypoint`` is ``(M, T, 25, 3)`` with ``M`` in {1, 2}. Clip ids are
``NAME_III`` (``III`` = 0-based row of the label file), labels are
``action_id - 1``; splits ``xsub_train``/``xsub_val`` and
``xview_train``/``xview_val`` list the clips of the named videos.
``classes`` holds the 51 action names by label
(:data:`~mmskelcl.datasets.class_names.PKUMMD_CLASSES`), for Part II too,
whose labels use the same ids.
"""
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..class_names import PKUMMD_CLASSES
from ..validation import assert_valid_annotations
from ._io import (ResumeCache, atomic_dump, ensure_parent, file_signature,
                  run_resumable)

NUM_CLASSES = len(PKUMMD_CLASSES)  # 51
NUM_JOINTS = 25
NUM_BODIES = 2
ROW_VALUES = NUM_BODIES * NUM_JOINTS * 3
CACHE_VERSION = 1


class PKUMMDFormatError(ValueError):
    """A skeleton, label or split file does not follow the release format."""


def read_skeleton(path: str) -> np.ndarray:
    """A skeleton file as ``(T, 2, 25, 3)`` float32."""
    rows = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                vals = [float(v) for v in line.split()]
            except ValueError as e:
                raise PKUMMDFormatError(f'{path}:{n}: non-numeric value ({e})'
                                        ) from e
            if len(vals) != ROW_VALUES:
                raise PKUMMDFormatError(
                    f'{path}:{n}: {len(vals)} values, expected {ROW_VALUES} '
                    '(2 bodies x 25 joints x xyz; zeros for a missing body)')
            rows.append(vals)
    if not rows:
        raise PKUMMDFormatError(f'{path}: no frames')
    kp = np.asarray(rows, dtype=np.float32).reshape(-1, NUM_BODIES,
                                                    NUM_JOINTS, 3)
    if not np.isfinite(kp).all():
        raise PKUMMDFormatError(f'{path}: {int((~np.isfinite(kp)).sum())} '
                                'NaN/inf values')
    return kp


def read_labels(path: str) -> List[Tuple[int, int, int]]:
    """A label file as ``[(label 0-50, start, end), ...]`` in row order."""
    out = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(',')]
            try:
                action, start, end = (int(float(p)) for p in parts[:3])
            except ValueError as e:
                raise PKUMMDFormatError(
                    f'{path}:{n}: expected "action_id, start_frame, '
                    f'end_frame, confidence", got {line.strip()!r}') from e
            if len(parts) < 3 or not 1 <= action <= NUM_CLASSES:
                raise PKUMMDFormatError(
                    f'{path}:{n}: action_id must be 1-{NUM_CLASSES} in '
                    f'"action_id, start_frame, end_frame, confidence", got '
                    f'{line.strip()!r}')
            if start < 0 or end <= start:
                raise PKUMMDFormatError(
                    f'{path}:{n}: need 0 <= start_frame < end_frame, got '
                    f'{start}, {end}')
            out.append((action - 1, start, end))
    if not out:
        raise PKUMMDFormatError(f'{path}: no labelled actions')
    return out


def read_split(path: str) -> Tuple[List[str], List[str]]:
    """A split list as ``(train videos, test videos)``."""
    lists: Dict[str, List[str]] = {}
    current = None
    with open(path, encoding='utf-8') as f:
        for line in f:
            text = line.strip()
            low = text.lower()
            if low.startswith('train'):
                current = lists.setdefault('train', [])
            elif low.startswith(('valid', 'test')):
                current = lists.setdefault('val', [])
            elif text:
                if current is None:
                    raise PKUMMDFormatError(
                        f'{path}: names before a "Training videos:" line')
                current.extend(n.strip() for n in text.split(',')
                               if n.strip())
    if not lists.get('train') or not lists.get('val'):
        raise PKUMMDFormatError(
            f'{path}: need a "Training videos:" and a "Validation videos:" '
            'line, each followed by comma-separated video names')
    both = set(lists['train']) & set(lists['val'])
    if both:
        raise PKUMMDFormatError(f'{path}: videos in both lists: '
                                f'{sorted(both)[:5]}')
    return lists['train'], lists['val']


def cut_video(name: str, skeleton_file: str, label_file: str) -> List[dict]:
    """The annotations of every labelled action of one video."""
    kp = read_skeleton(skeleton_file)
    annos = []
    for row, (label, start, end) in enumerate(read_labels(label_file)):
        if start >= len(kp):
            raise PKUMMDFormatError(
                f'{label_file}: row {row + 1} starts at frame {start} but '
                f'{skeleton_file} has {len(kp)} frames')
        if end > len(kp):
            warnings.warn(f'{label_file}: row {row + 1} ends at frame {end}'
                          f', clipped to the {len(kp)} frames of the video')
            end = len(kp)
        clip = kp[start:end].transpose(1, 0, 2, 3)  # (2, T, 25, 3)
        present = np.abs(clip).reshape(NUM_BODIES, -1).max(1) > 0
        if not present.any():
            raise PKUMMDFormatError(
                f'{skeleton_file}: frames {start}-{end - 1} (label row '
                f'{row + 1}) hold no body (all zeros)')
        clip = clip[:1] if not present[1] else clip
        annos.append(dict(frame_dir=f'{name}_{row:03d}', label=label,
                          total_frames=int(clip.shape[1]),
                          keypoint=np.ascontiguousarray(clip)))
    return annos


def convert_pkummd(skeleton_dir: str, label_dir: str, out_file: str,
                   xsub: Optional[str] = None, xview: Optional[str] = None,
                   resume: bool = True, save_every: int = 50,
                   progress: bool = True) -> dict:
    """Cut the labelled actions of the videos the split lists name.

    Args:
        skeleton_dir (str): Folder of ``NAME.txt`` skeleton files.
        label_dir (str): Folder of ``NAME.txt`` label files.
        out_file (str): Output pickle (written atomically).
        xsub (str, optional): Cross-subject split list.
        xview (str, optional): Cross-view split list. At least one is needed.
        resume (bool): Reuse ``out_file + '.partial'`` of a killed run.
        save_every (int): Update the partial cache every N videos.
        progress (bool): Show a progress bar.

    Returns:
        dict: ``dict(split=..., annotations=..., classes=...)`` as written.
    """
    lists = {k: read_split(p) for k, p in (('xsub', xsub), ('xview', xview))
             if p is not None}
    if not lists:
        raise ValueError('give at least one split list (xsub= or xview=)')
    for d, what in ((skeleton_dir, 'skeleton'), (label_dir, 'label')):
        if not osp.isdir(d):
            raise FileNotFoundError(f'PKU-MMD {what} directory not found: {d}')
    videos = sorted({v for tr, va in lists.values() for v in tr + va})
    files = {v: (osp.join(skeleton_dir, v + '.txt'),
                 osp.join(label_dir, v + '.txt')) for v in videos}
    missing = [p for pair in files.values() for p in pair
               if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} file(s) named by the split lists are missing, '
            f'e.g. {missing[:3]}: give the folders holding NAME.txt for '
            'every listed video (skeletons and labels separately)')
    ensure_parent(out_file)
    cache = ResumeCache(out_file + '.partial', dict(
        version=CACHE_VERSION, skeleton_dir=osp.abspath(skeleton_dir),
        label_dir=osp.abspath(label_dir)), resume=resume,
        save_every=save_every)
    items = run_resumable(
        ((v, tuple(file_signature(p) for p in files[v])) for v in videos),
        lambda v: cut_video(v, *files[v]), cache, desc='PKU-MMD',
        unit='video', progress=progress)
    annotations = [a for v in videos for a in items[v]]
    split = {}
    for key, (train, val) in lists.items():
        for part, names in (('train', train), ('val', val)):
            split[f'{key}_{part}'] = [a['frame_dir'] for v in names
                                      for a in items[v]]
    data = dict(split=split, annotations=annotations,
                classes=list(PKUMMD_CLASSES))
    assert_valid_annotations(data, file=out_file, num_classes=NUM_CLASSES)
    atomic_dump(data, out_file)
    cache.discard()
    return data


def clips_per_split(data: dict) -> Dict[str, int]:
    """Number of clips in each split."""
    return {k: len(v) for k, v in data['split'].items()}


__all__: Sequence[str] = ('PKUMMDFormatError', 'convert_pkummd', 'cut_video',
                          'read_labels', 'read_skeleton', 'read_split')
