"""Time alignment: per-frame tracked poses -> one annotation of a video.

Frame ``t`` of the video is frame ``t`` of the skeleton. A frame without
any detection stays in place with zero keypoints and scores, and a person
missing in a frame gets zeros there, so no frame is dropped and time never
shifts (unlike extraction code that skips frames without detections).

Persons are tracks (:mod:`.tracker`), ranked by their summed keypoint score
over all their frames; in that order each fills the first of
``max_persons`` person slots in which none of its frames is taken, so the
most confident person is slot 0 and a track restarted after a gap joins the
slot it left free. Keypoints and scores are stored as float16, as PySKL's
HRNet pickles.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


class TrackRecorder:
    """Collects the poses of every track on the video's time axis.

    Args:
        num_keypoints (int): K, keypoints a person has.
    """

    def __init__(self, num_keypoints: int) -> None:
        self.num_keypoints = num_keypoints
        self.poses: Dict[int, Dict[int, Tuple[np.ndarray, np.ndarray]]] = {}
        self.max_in_frame = 0  # PySKL's num_person_raw

    def add(self, frame_index: int, track_ids: Sequence[int],
            keypoints: np.ndarray, scores: np.ndarray) -> None:
        """Record the N persons of one frame.

        Args:
            frame_index (int): t, 0-based on the video's time axis.
            track_ids: N ids. keypoints: (N, K, 2). scores: (N, K).
        """
        n, k = len(track_ids), self.num_keypoints
        if np.shape(keypoints) != (n, k, 2) or np.shape(scores) != (n, k):
            raise ValueError(
                f'frame {frame_index}: estimator returned keypoints '
                f'{np.shape(keypoints)} and scores {np.shape(scores)}, '
                f'expected ({n}, {k}, 2) and ({n}, {k})')
        if len(set(track_ids)) != n:
            raise ValueError(f'frame {frame_index}: a track id is given '
                             f'twice: {list(track_ids)}')
        self.max_in_frame = max(self.max_in_frame, n)
        for j, tid in enumerate(track_ids):
            self.poses.setdefault(tid, {})[frame_index] = (
                np.asarray(keypoints[j], np.float32),
                np.asarray(scores[j], np.float32))

    def ranked_tracks(self) -> List[int]:
        """Track ids, largest summed keypoint score first (ties: older
        track first)."""
        total = {tid: sum(float(s.sum()) for _, s in frames.values())
                 for tid, frames in self.poses.items()}
        return sorted(total, key=lambda tid: (-total[tid], tid))

    def to_arrays(self, num_frames: int, max_persons: int
                  ) -> Tuple[np.ndarray, np.ndarray, List[List[int]]]:
        """Keypoints (M, T, K, 2) and scores (M, T, K), float16, and the
        track ids in each person slot.

        In rank order, each track goes to the first of ``max_persons``
        slots where none of its frames is taken (so a person whose track was
        lost and restarted stays one person); a track that fits no slot is
        dropped. M = the slots used, at least 1.
        """
        if max_persons < 1:
            raise ValueError(f'max_persons must be >= 1, got {max_persons}')
        k = self.num_keypoints
        keypoint = np.zeros((max_persons, num_frames, k, 2), np.float32)
        score = np.zeros((max_persons, num_frames, k), np.float32)
        taken = np.zeros((max_persons, num_frames), bool)
        slots: List[List[int]] = [[] for _ in range(max_persons)]
        for tid in self.ranked_tracks():
            frames = sorted(self.poses[tid])
            if frames[0] < 0 or frames[-1] >= num_frames:
                raise ValueError(f'track {tid} has frames {frames[0]}-'
                                 f'{frames[-1]}, outside the {num_frames} '
                                 'frames')
            free = [s for s in range(max_persons)
                    if not taken[s, frames].any()]
            if not free:
                continue
            slot = free[0]
            taken[slot, frames] = True
            slots[slot].append(tid)
            for t in frames:
                keypoint[slot, t], score[slot, t] = self.poses[tid][t]
        used = max(1, sum(1 for s in slots if s))
        return (keypoint[:used].astype(np.float16),
                score[:used].astype(np.float16), slots[:used])


def make_annotation(frame_dir: str, recorder: TrackRecorder,
                    num_frames: int, img_shape: Tuple[int, int],
                    max_persons: int = 2,
                    label: Optional[int] = None) -> dict:
    """The PySKL annotation of one video (``label`` only when given), with
    ``num_person_raw`` (most persons in one frame, as PySKL) and
    ``track_ids`` (the tracker's ids in each person slot)."""
    keypoint, score, kept = recorder.to_arrays(num_frames, max_persons)
    anno = dict(frame_dir=frame_dir, total_frames=int(num_frames),
                img_shape=tuple(int(v) for v in img_shape),
                original_shape=tuple(int(v) for v in img_shape),
                keypoint=keypoint, keypoint_score=score,
                num_person_raw=int(recorder.max_in_frame),
                track_ids=[list(ids) for ids in kept])
    if label is not None:
        anno['label'] = int(label)
    return anno


def is_empty(anno: dict) -> bool:
    """Whether nobody was found in any frame of the video."""
    return not np.any(anno['keypoint_score'])
