"""The estimator interface and its MMDetection / MMPose implementation.

Everything else of the extraction (video reading, boxes, tracking, time
alignment, writing) only sees :class:`PoseEstimator`, so it runs and is
tested without MMPose. :class:`MMPoseEstimator` imports MMPose and
MMDetection when it is built, never at import time, and downloads nothing
itself: checkpoints given as URLs are fetched by MMEngine when the models
are built.
"""
import importlib.util
import os.path as osp
from abc import ABCMeta, abstractmethod
from typing import Optional, Tuple

import numpy as np

#: HRNet-w32 COCO-17 256x192 top-down (PySKL's pose model), MMPose 1.x.
DEFAULT_POSE_CONFIG = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
                       'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
DEFAULT_POSE_CHECKPOINT = (
    'https://download.openmmlab.com/mmpose/v1/body_2d_keypoint/'
    'topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40'
    '_20220909.pth')
#: Faster R-CNN R50-FPN on COCO (person = class 0), MMDetection 3.x.
DEFAULT_DET_CONFIG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
DEFAULT_DET_CHECKPOINT = (
    'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-'
    '047c8118.pth')

POSE_EXTRA_HINT = (
    'MMPose/MMDetection are not installed here: `make pose-env` (or bash '
    'tools/pose_env.sh) builds them in .venv-pose; run the tool with '
    '.venv-pose/bin/python, or use --backend onnx (pip install '
    '"mmskelcl[pose-onnx]").')


class PoseEstimator(metaclass=ABCMeta):
    """Person detector plus top-down pose estimator on single frames.

    Frames are BGR uint8 (H, W, 3) as OpenCV reads them.
    """

    #: Keypoints a person has (COCO-17).
    num_keypoints: int = 17

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Person boxes (N, 5) ``x1, y1, x2, y2, score`` (unfiltered).

        Estimators used with ground-truth boxes need not implement it.
        """
        raise NotImplementedError(
            f'{type(self).__name__} has no person detector: give '
            'ground-truth boxes or a detector config')

    @abstractmethod
    def estimate(self, frame: np.ndarray,
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (N, K, 2) in pixels and scores (N, K) of the persons in
        ``boxes`` (N, 4+), N >= 1, in the same order."""


def resolve_config(config: str) -> str:
    """``'pkg::rel/path.py'`` -> the config bundled in the installed
    package ``pkg`` (``pkg/.mim/configs/rel/path.py``); paths pass
    through."""
    if '::' not in config:
        return config
    package, rel = config.split('::', 1)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f'cannot resolve {config!r}: package {package!r} '
                          f'is not installed. {POSE_EXTRA_HINT}')
    path = osp.join(list(spec.submodule_search_locations)[0], '.mim',
                    'configs', rel)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{config!r}: no such config in the '
                                f'installed {package} ({path})')
    return path


class MMPoseEstimator(PoseEstimator):
    """MMDetection 3.x detector + MMPose 1.x top-down estimator.

    Args:
        pose_config (str): MMPose config path (or ``'mmpose::...'``).
        pose_checkpoint (str, optional): Path or URL; None keeps the
            random initialisation (only for plumbing tests).
        det_config (str, optional): MMDetection config; None when boxes
            come from a ground-truth file.
        det_checkpoint (str, optional): Path or URL (None: random).
        device (str): ``'cpu'``, ``'cuda:0'``, ...
        det_cat_id (int): The person class of the detector (0 on COCO).
    """

    def __init__(self,
                 pose_config: str = DEFAULT_POSE_CONFIG,
                 pose_checkpoint: Optional[str] = DEFAULT_POSE_CHECKPOINT,
                 det_config: Optional[str] = None,
                 det_checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 det_cat_id: int = 0) -> None:
        try:
            from mmpose.apis import inference_topdown, init_model
        except ImportError as e:
            raise ImportError(f'{POSE_EXTRA_HINT} ({e})') from e
        self._inference_topdown = inference_topdown
        self.pose_model = init_model(resolve_config(pose_config),
                                     pose_checkpoint, device=device)
        self.num_keypoints = int(
            self.pose_model.dataset_meta.get('num_keypoints', 17))
        self.det_model = None
        self.det_cat_id = det_cat_id
        if det_config is not None:
            try:
                from mmdet.apis import inference_detector, init_detector
            except ImportError as e:
                raise ImportError(f'{POSE_EXTRA_HINT} ({e})') from e
            self._inference_detector = inference_detector
            self.det_model = init_detector(resolve_config(det_config),
                                           det_checkpoint, device=device)

    def detect(self, frame: np.ndarray) -> np.ndarray:
        if self.det_model is None:
            return super().detect(frame)
        # inference_topdown() leaves MMPose's registry scope current, in
        # which MMDetection's test pipeline (PackDetInputs, ...) is unknown
        from mmengine.registry import DefaultScope
        cfg = getattr(self.det_model, 'cfg', None) or {}
        scope = cfg.get('default_scope', 'mmdet')
        with DefaultScope.overwrite_default_scope(scope):
            result = self._inference_detector(self.det_model, frame)
        inst = result.pred_instances.cpu().numpy()
        keep = inst.labels == self.det_cat_id
        return np.concatenate([inst.bboxes[keep], inst.scores[keep, None]],
                              axis=1).astype(np.float32)

    def estimate(self, frame: np.ndarray,
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        if len(boxes) == 0:  # MMPose would use the whole image instead
            raise ValueError('estimate() needs at least one box')
        results = self._inference_topdown(
            self.pose_model, frame, np.asarray(boxes)[:, :4],
            bbox_format='xyxy')
        kps = np.stack([r.pred_instances.keypoints[0] for r in results])
        scores = np.stack(
            [r.pred_instances.keypoint_scores[0] for r in results])
        return kps.astype(np.float32), scores.astype(np.float32)
