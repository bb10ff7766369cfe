"""Skeleton clips in and predictions out: arrays and pickles to pipeline
inputs, and the top-k result of :func:`~mmskelcl.apis.classify_skeleton`."""
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np


def skeleton_to_sample(keypoint: np.ndarray,
                       keypoint_score: Optional[np.ndarray] = None,
                       img_shape: Optional[Sequence[int]] = None,
                       frame_dir: str = 'input',
                       two_d: bool = False) -> Dict[str, Any]:
    """A pipeline input (annotation dict) from a skeleton array.

    Args:
        keypoint (np.ndarray): ``(M, T, V, C)`` (or ``(T, V, C)``, one
            person).
        keypoint_score (np.ndarray, optional): ``(M, T, V)`` scores.
        img_shape (Sequence[int], optional): ``(h, w)`` of the image the 2D
            keypoints are in (pixels); 2D pipelines otherwise assume
            MMAction2's default 1080 x 1920.
        frame_dir (str): Id of the clip.
        two_d (bool): The keypoints are 2D image coordinates (a 2D
            config). Without ``keypoint_score``, a ``C = 3`` array is read
            as x, y, score and a ``C = 2`` array gets scores of 1.

    Returns:
        dict: ``keypoint``, ``total_frames`` and the keys the test
        pipelines expect.
    """
    kp = np.asarray(keypoint, dtype=np.float32)
    if kp.ndim == 3:
        kp = kp[None]
    if kp.ndim != 4:
        raise ValueError(f'a skeleton is (M, T, V, C), got {kp.shape}')
    if two_d and keypoint_score is None:
        if kp.shape[-1] == 3:
            kp, keypoint_score = kp[..., :2], kp[..., 2]
        elif kp.shape[-1] == 2:
            keypoint_score = np.ones(kp.shape[:3], dtype=np.float32)
    sample = dict(frame_dir=frame_dir, label=-1, start_index=0,
                  modality='Pose', total_frames=int(kp.shape[1]), keypoint=kp)
    if keypoint_score is not None:
        score = np.asarray(keypoint_score, dtype=np.float32)
        if score.shape != kp.shape[:3]:
            raise ValueError(f'keypoint_score {score.shape} does not match '
                             f'the keypoints {kp.shape[:3]}')
        sample['keypoint_score'] = score
    if img_shape is not None:
        sample['img_shape'] = sample['original_shape'] = tuple(img_shape)
    return sample


@dataclass
class SkeletonPrediction:
    """Scores of one clip and its top-k classes.

    Args:
        frame_dir (str): Clip id.
        scores (np.ndarray): ``(K, )`` class scores (the head's
            ``average_clips``: probabilities by default).
        topk (list[tuple[int, str, float]]): ``(label, name, score)``.
        gt_label (int, optional): The clip's label, when it has one.
    """

    frame_dir: str
    scores: np.ndarray
    topk: List[Tuple[int, str, float]]
    gt_label: Optional[int] = None

    @property
    def pred_label(self) -> int:
        """int: The top-1 label."""
        return self.topk[0][0]

    def format(self, class_names: Optional[Sequence[str]] = None) -> str:
        """Text: the clip, its true label if known, the top-k table."""
        head = f'{self.frame_dir}'
        if self.gt_label is not None:
            name = f': {class_names[self.gt_label]}' if class_names else ''
            head += f' (true label {self.gt_label}{name})'
        rows = [f'  {r}. {name} (label {label}): {score:.4f}'
                for r, (label, name, score) in enumerate(self.topk, 1)]
        return '\n'.join([head] + rows)


def load_skeleton_samples(path: str) -> List[Dict[str, Any]]:
    """The annotation dicts of a skeleton pickle.

    Accepts a dataset file (``dict(split=..., annotations=[...])``), a list
    of annotations, or a single annotation dict.
    """
    from mmskelcl.utils.safe_pickle import safe_load
    if not osp.isfile(path):
        raise FileNotFoundError(path)
    obj = safe_load(path)
    if isinstance(obj, Mapping) and 'annotations' in obj:
        return list(obj['annotations'])
    if isinstance(obj, Mapping) and 'keypoint' in obj:
        return [dict(obj)]
    if isinstance(obj, (list, tuple)):
        return list(obj)
    raise ValueError(f'{path}: expected a skeleton dataset, a list of '
                     'annotations or one annotation dict')
