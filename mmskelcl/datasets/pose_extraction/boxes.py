"""Person boxes: detector output filtering and ground-truth box files.

Boxes are float arrays (N, 5): ``x1, y1, x2, y2, score`` in pixels.

A ground-truth box file (FineGym's skeletons were extracted with the
athlete's ground-truth boxes) is a pickle or json dict ``video_id -> boxes``
where the boxes of one video are one of:

* an array (T, 4 or 5): one box per frame; a row of zeros or NaN means no
  box in that frame;
* a list of T entries, each (N_t, 4 or 5) (an empty entry: no box);
* a dict ``frame_index -> (N, 4 or 5)`` (absent frames: no box).

Boxes without a score column get score 1.
"""
import json
import os.path as osp
from typing import Any, Dict, Mapping

import numpy as np

from mmskelcl.utils.safe_pickle import safe_load

#: PySKL's detection filter (``custom_2d_skeleton.py``).
DET_SCORE_THR = 0.7
DET_AREA_THR = 1600.0


class BoxFormatError(ValueError):
    """A box file or a box array does not follow the format above."""


def as_boxes(value: Any, where: str) -> np.ndarray:
    """``value`` as (N, 5) float32, dropping all-zero or NaN rows."""
    arr = np.asarray(value if value is not None else [], dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 5), np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] not in (4, 5):
        raise BoxFormatError(f'{where}: boxes must be (N, 4) or (N, 5) '
                             f'x1, y1, x2, y2[, score], got shape '
                             f'{arr.shape}')
    if arr.shape[1] == 4:
        arr = np.concatenate([arr, np.ones((len(arr), 1))], axis=1)
    keep = np.isfinite(arr[:, :4]).all(axis=1) & (arr[:, :4] != 0).any(
        axis=1)
    arr = arr[keep]
    if ((arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1])).any():
        raise BoxFormatError(f'{where}: a box has x2 < x1 or y2 < y1 '
                             '(expected x1, y1, x2, y2)')
    return arr.astype(np.float32)


def filter_boxes(boxes: np.ndarray, score_thr: float = DET_SCORE_THR,
                 area_thr: float = DET_AREA_THR) -> np.ndarray:
    """Keep boxes with ``score >= score_thr`` and ``area >= area_thr``."""
    boxes = as_boxes(boxes, 'detections')
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[(boxes[:, 4] >= score_thr) & (area >= area_thr)]


def load_box_file(path: str) -> Dict[str, Any]:
    """Read a ground-truth box file (``.pkl`` / ``.pickle`` / ``.json``)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'ground-truth box file not found: {path}')
    if path.endswith('.json'):
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    else:
        data = safe_load(path)
    if not isinstance(data, Mapping):
        raise BoxFormatError(f'{path}: must hold a dict video_id -> boxes, '
                             f'got {type(data).__name__}')
    return dict(data)


class FrameBoxes:
    """The ground-truth boxes of one video (any accepted form), by frame.

    Args:
        entry: The video's value in the box file.
        where (str): ``'file: video_id'``, used in error messages.
    """

    def __init__(self, entry: Any, where: str) -> None:
        self.where = where
        self.by_frame: Dict[int, np.ndarray] = {}
        self.length = None  # frames the entry describes (list/array forms)
        if isinstance(entry, Mapping):
            for key, value in entry.items():
                try:
                    t = int(key)
                except (TypeError, ValueError) as e:
                    raise BoxFormatError(f'{where}: frame key {key!r} is not '
                                         'an integer') from e
                self.by_frame[t] = as_boxes(value, f'{where} frame {t}')
            return
        if isinstance(entry, np.ndarray) and entry.ndim == 2:
            entry = list(entry)  # one box per frame
        if not isinstance(entry, (list, tuple)):
            raise BoxFormatError(
                f'{where}: boxes must be an array (T, 4|5), a list of '
                'per-frame arrays or a dict frame -> boxes, got '
                f'{type(entry).__name__}')
        self.length = len(entry)
        self.by_frame = {t: as_boxes(v, f'{where} frame {t}')
                         for t, v in enumerate(entry)}

    def __call__(self, t: int) -> np.ndarray:
        """Boxes (N, 5) of frame ``t`` (none: (0, 5))."""
        return self.by_frame.get(t, np.zeros((0, 5), np.float32))

    def check_length(self, num_frames: int) -> None:
        """Raise if the boxes describe frames the video does not have."""
        if self.length is not None and self.length != num_frames:
            raise BoxFormatError(f'{self.where}: boxes for {self.length} '
                                 f'frames but the video has {num_frames}')
        late = [t for t in self.by_frame if not 0 <= t < num_frames]
        if late:
            raise BoxFormatError(f'{self.where}: frame {min(late)} is '
                                 f'outside the video ({num_frames} frames)')
