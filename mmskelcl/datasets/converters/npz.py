"""CTR-GCN / FR-Head style ``.npz`` (``x_train``, ``y_train``, ``x_test``,
``y_test``) to the pickle.

The CTR-GCN family's ``seq_transformation.py`` saves ``x_*`` as
(N, T, M * V * C) float32 (NTU: T = 300 zero-padded frames, M = 2 persons,
V = 25 joints, C = 3, i.e. 150 values a frame ordered person, joint,
coordinate) and ``y_*`` as one-hot (N, num_classes). Arrays of shape
(N, T, M, V, C) or (N, C, T, V, M) (``axes='NCTVM'``, the ``.npy`` layout
of ST-GCN/2s-AGCN) are accepted too, and so are integer labels (N,).

Per sample: the trailing all-zero frames (padding) are cut, so
``total_frames`` is the last non-zero frame + 1; persons that are zero in
every frame are dropped (at least one is kept); the label is the index of
the one-hot 1. Ids are ``train_000000``, ``test_000000``, ... (the npz
holds no names); the split names default to ``train`` / ``val`` and are
set with ``split_names`` (e.g. ``('xsub_train', 'xsub_val')`` for the
NTU60 X-Sub configs).

``x_*`` is streamed row by row from the archive (never loaded whole: NTU120
``x_train`` is about 11 GB), parsed samples are cached for resume.
"""
import os.path as osp
import zipfile
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from ..validation import assert_valid_annotations
from ._io import (ResumeCache, atomic_dump, ensure_parent, file_signature,
                  run_resumable)

PARTS = ('train', 'test')
AXES = ('NTMVC', 'NCTVM')
CACHE_VERSION = 1


class NPZFormatError(ValueError):
    """The ``.npz`` does not hold what the CTR-GCN format prescribes."""


class NpyRows:
    """Random access to the rows of one array inside an ``.npz`` archive,
    reading one row at a time (sequential access is fastest)."""

    def __init__(self, npz_file: str, key: str) -> None:
        self.where = f'{npz_file}: {key!r}'
        self._zip = zipfile.ZipFile(npz_file)
        try:
            self._f = self._zip.open(key + '.npy')
        except KeyError as e:
            self._zip.close()
            raise NPZFormatError(f'{self.where} not found') from e
        version = np.lib.format.read_magic(self._f)
        read_header = (np.lib.format.read_array_header_1_0
                       if version == (1, 0) else
                       np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(self._f)
        if fortran or dtype.hasobject or not shape:
            self.close()
            raise NPZFormatError(f'{self.where} must be a C-ordered numeric '
                                 f'array, got shape {shape} dtype {dtype}')
        self.shape, self.dtype = tuple(shape), dtype
        self._start = self._f.tell()
        self._row_bytes = int(np.prod(shape[1:], dtype=np.int64)) \
            * dtype.itemsize
        self._next = 0

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f'{self.where}: row {index} out of range')
        if index != self._next:
            self._f.seek(self._start + index * self._row_bytes)
        buf = self._f.read(self._row_bytes)
        if len(buf) != self._row_bytes:
            raise NPZFormatError(f'{self.where}: truncated at row {index}')
        self._next = index + 1
        return np.frombuffer(buf, self.dtype).reshape(self.shape[1:])

    def close(self) -> None:
        self._f.close()
        self._zip.close()


def read_labels(npz_file: str, key: str) -> Tuple[np.ndarray, Optional[int]]:
    """Integer labels from a one-hot (N, K) or integer (N,) array, and K
    (None for integer labels)."""
    with np.load(npz_file) as z:
        if key not in z.files:
            raise NPZFormatError(f'{npz_file}: {key!r} not found (keys: '
                                 f'{sorted(z.files)})')
        y = z[key]
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        bad = np.flatnonzero(y < 0)
        if bad.size:
            raise NPZFormatError(f'{npz_file}: {key}[{bad[0]}] is a '
                                 f'negative label ({y[bad[0]]})')
        return y.astype(np.int64), None
    if y.ndim != 2:
        raise NPZFormatError(f'{npz_file}: {key!r} must be one-hot (N, K) or '
                             f'integer (N,), got shape {y.shape}')
    ones, zeros = (y == 1).sum(axis=1), (y == 0).sum(axis=1)
    bad = np.flatnonzero((ones != 1) | (ones + zeros != y.shape[1]))
    if bad.size:
        raise NPZFormatError(f'{npz_file}: {key}[{bad[0]}] is not one-hot '
                             f'(one 1, the rest 0): {y[bad[0]].tolist()}')
    return y.argmax(axis=1), y.shape[1]


def to_mtvc(x: np.ndarray, num_person: int, num_joints: int,
            axes: str = 'NTMVC') -> np.ndarray:
    """One sample (without N) as (M, T, V, C) float32."""
    if axes == 'NCTVM':
        return np.array(x.transpose(3, 1, 2, 0), np.float32, order='C')
    if x.ndim == 2:  # (T, M * V * C)
        if x.shape[1] % (num_person * num_joints):
            raise ValueError(f'{x.shape[1]} values a frame are not '
                             f'{num_person} persons x {num_joints} joints '
                             'x C')
        x = x.reshape(x.shape[0], num_person, num_joints, -1)
    return np.array(x.transpose(1, 0, 2, 3), np.float32, order='C')


def make_sample(x: np.ndarray, label: int, sample_id: str,
                where: str = '') -> dict:
    """Trim padding and empty persons of (M, T, V, C) keypoints; errors
    start with ``where`` (e.g. ``'file.npz: x_train[3]'``)."""
    where = where or sample_id
    if not np.isfinite(x).all():
        raise NPZFormatError(f'{where}: keypoints hold NaN/inf')
    frame_used = np.abs(x).sum(axis=(0, 2, 3)) > 0
    if not frame_used.any():
        raise NPZFormatError(f'{where}: every frame is zero (an empty '
                             'sample)')
    x = x[:, :np.flatnonzero(frame_used)[-1] + 1]
    persons = np.abs(x).sum(axis=(1, 2, 3)) > 0
    x = x[persons]
    return dict(frame_dir=sample_id, label=int(label),
                total_frames=int(x.shape[1]), keypoint=x)


def convert_npz(npz_file: str,
                out_file: str,
                split_names: Sequence[str] = ('train', 'val'),
                num_person: int = 2,
                num_joints: int = 25,
                axes: str = 'NTMVC',
                num_classes: Optional[int] = None,
                resume: bool = True,
                save_every: int = 1000,
                progress: bool = True) -> dict:
    """Convert ``npz_file`` and write ``out_file`` atomically.

    Args:
        split_names: Names of the split made of ``x_train`` and of
            ``x_test``.
        num_person, num_joints: How a flat (N, T, M * V * C) array is cut.
        axes: ``'NTMVC'`` (CTR-GCN, flat or 5D) or ``'NCTVM'``.
        num_classes: Labels are checked against it (default: the one-hot
            width, if one-hot).

    Returns:
        dict: ``dict(split, annotations)``.
    """
    if axes not in AXES:
        raise ValueError(f'axes must be one of {AXES}, got {axes!r}')
    if len(split_names) != 2 or len(set(split_names)) != 2:
        raise ValueError(f'split_names must be two different names, got '
                         f'{split_names!r}')
    if not osp.isfile(npz_file):
        raise FileNotFoundError(f'npz file not found: {npz_file}')
    npz_file = osp.abspath(npz_file)
    labels, widths = {}, {}
    for part in PARTS:
        labels[part], widths[part] = read_labels(npz_file, f'y_{part}')
    if num_classes is None:
        num_classes = widths['train']
    rows: Dict[str, NpyRows] = {}
    try:
        for part in PARTS:
            rows[part] = NpyRows(npz_file, f'x_{part}')
            if len(rows[part]) != len(labels[part]):
                raise NPZFormatError(
                    f'{npz_file}: x_{part} has {len(rows[part])} samples '
                    f'but y_{part} has {len(labels[part])}')
            if len(rows[part].shape) not in (3, 5):
                raise NPZFormatError(
                    f'{npz_file}: x_{part} must be (N, T, M*V*C) or 5D, got '
                    f'{rows[part].shape}')
        return _convert(npz_file, out_file, split_names, rows, labels,
                        (num_person, num_joints, axes), num_classes, resume,
                        save_every, progress)
    finally:
        for r in rows.values():
            r.close()


def _convert(npz_file: str, out_file: str, split_names: Sequence[str],
             rows: Dict[str, NpyRows], labels: Dict[str, np.ndarray],
             layout: Tuple[int, int, str], num_classes: Optional[int],
             resume: bool, save_every: int, progress: bool) -> dict:
    ensure_parent(out_file)
    sig = file_signature(npz_file)
    cache = ResumeCache(out_file + '.partial',
                        dict(version=CACHE_VERSION, src=npz_file,
                             layout=layout),
                        resume=resume, save_every=save_every,
                        layout='chunks')
    keys = [(p, i) for p in PARTS for i in range(len(rows[p]))]

    def work(key: Tuple[str, int]) -> Any:
        part, i = key
        sample_id = f'{part}_{i:06d}'
        try:
            x = to_mtvc(rows[part][i], *layout)
        except ValueError as e:
            raise NPZFormatError(f'{npz_file}: x_{part}[{i}]: {e}') from e
        return make_sample(x, labels[part][i], sample_id,
                           f'{npz_file}: x_{part}[{i}]')

    items = run_resumable(((k, sig) for k in keys), work, cache,
                          desc='npz', unit='sample', progress=progress)
    annotations = [items[k] for k in keys]
    split = {name: [f'{p}_{i:06d}' for i in range(len(rows[p]))]
             for name, p in zip(split_names, PARTS)}
    data = dict(split=split, annotations=annotations)
    assert_valid_annotations(data, file=out_file, num_classes=num_classes)
    atomic_dump(data, out_file)
    cache.discard()
    return data
