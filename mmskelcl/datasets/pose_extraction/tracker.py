"""A simple pose / box similarity tracker that keeps person identities.

PySKL's extraction puts the j-th detection of every frame in person slot j,
so a person's slot can change from frame to frame. Here each detection is
matched to a track instead:

* similarity of a track and a detection = ``box_weight * IoU(boxes) +
  (1 - box_weight) * OKS(poses)``, where the OKS-like pose term is the mean
  over joints confident in both (score >= ``score_thr``) of
  ``exp(-d^2 / (2 * area * kappa^2))``, ``d`` the joint distance and
  ``area`` the track's box area (0 without common confident joints);
* detections and active tracks are matched one-to-one maximising the total
  similarity (Hungarian algorithm); pairs below ``min_similarity`` are not
  matched;
* an unmatched detection starts a new track; a track not matched for more
  than ``max_missing`` frames is retired (never matched again). Frames
  without detections only age the tracks.

Track ids are 0, 1, 2, ... in order of creation.
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class Track:
    """The last observation of one person."""
    track_id: int
    box: np.ndarray  # (4,)
    keypoints: np.ndarray  # (K, 2)
    scores: np.ndarray  # (K,)
    last_frame: int


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of x1, y1, x2, y2 boxes."""
    a, b = np.asarray(a, np.float64)[:, None, :4], np.asarray(
        b, np.float64)[None, :, :4]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) -
                np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) -
                np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


class PoseTracker:
    """Assign track ids to the persons of consecutive frames.

    Args:
        box_weight (float): Weight of the box IoU (the pose term gets the
            rest). Defaults to 0.5.
        min_similarity (float): Smallest similarity of a match. Defaults
            to 0.1.
        max_missing (int): Frames a track may go unmatched before it is
            retired. Defaults to 30.
        kappa (float): Pose falloff constant. Defaults to 0.1.
        score_thr (float): Joints below it are ignored by the pose term.
            Defaults to 0.3.
    """

    def __init__(self, box_weight: float = 0.5, min_similarity: float = 0.1,
                 max_missing: int = 30, kappa: float = 0.1,
                 score_thr: float = 0.3) -> None:
        if not 0 <= box_weight <= 1:
            raise ValueError(f'box_weight must be in [0, 1], got '
                             f'{box_weight}')
        self.box_weight, self.min_similarity = box_weight, min_similarity
        self.max_missing, self.kappa = max_missing, kappa
        self.score_thr = score_thr
        self.tracks: List[Track] = []
        self._next_id = 0

    def _pose_similarity(self, track: Track, kps: np.ndarray,
                         scores: np.ndarray) -> float:
        both = (track.scores >= self.score_thr) & (scores >= self.score_thr)
        if not both.any():
            return 0.0
        w, h = track.box[2] - track.box[0], track.box[3] - track.box[1]
        area = max(float(w * h), 1.0)
        d2 = ((track.keypoints[both] - kps[both])**2).sum(axis=1)
        return float(np.exp(-d2 / (2 * area * self.kappa**2)).mean())

    def similarity(self, boxes: np.ndarray, keypoints: np.ndarray,
                   scores: np.ndarray,
                   tracks: Optional[List[Track]] = None) -> np.ndarray:
        """Similarity matrix (len(tracks), N)."""
        tracks = self.tracks if tracks is None else tracks
        if not tracks or not len(boxes):
            return np.zeros((len(tracks), len(boxes)))
        iou = box_iou(np.stack([t.box for t in tracks]), boxes)
        pose = np.array([[self._pose_similarity(t, keypoints[j], scores[j])
                          for j in range(len(boxes))] for t in tracks])
        return self.box_weight * iou + (1 - self.box_weight) * pose

    def update(self, frame_index: int, boxes: np.ndarray,
               keypoints: np.ndarray, scores: np.ndarray) -> List[int]:
        """Track ids of the N persons of frame ``frame_index`` (in order).

        Args:
            boxes: (N, 4+) boxes. keypoints: (N, K, 2). scores: (N, K).
        """
        active = [t for t in self.tracks
                  if frame_index - t.last_frame <= self.max_missing]
        ids = [-1] * len(boxes)
        if active and len(boxes):
            sim = self.similarity(boxes, keypoints, scores, active)
            rows, cols = linear_sum_assignment(-sim)
            for r, c in zip(rows, cols):
                if sim[r, c] >= self.min_similarity:
                    ids[c] = active[r].track_id
                    active[r].box = np.asarray(boxes[c][:4], np.float64)
                    active[r].keypoints = np.asarray(keypoints[c])
                    active[r].scores = np.asarray(scores[c])
                    active[r].last_frame = frame_index
        for j, track_id in enumerate(ids):
            if track_id < 0:
                ids[j] = self._next_id
                self.tracks.append(Track(
                    self._next_id, np.asarray(boxes[j][:4], np.float64),
                    np.asarray(keypoints[j]), np.asarray(scores[j]),
                    frame_index))
                self._next_id += 1
        return ids
