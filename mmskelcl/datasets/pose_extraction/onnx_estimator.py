"""The light backend: RTMDet + RTMPose ONNX models through onnxruntime.

Needs only ``onnxruntime`` and OpenCV (``pip install "mmskelcl[pose-onnx]"``;
``onnxruntime-gpu`` for ``device='cuda:0'``), no MMCV, MMDetection or
MMPose. The models are ONNX files as MMDeploy exports them (and as rtmlib
and MMPose's RTMPose page distribute them):

* RTMDet (with NMS): input ``(1, 3, H, W)`` (640x640 for RTMDet-m, also
  when dynamic),
  outputs ``dets`` ``(1, N, 5)`` ``x1, y1, x2, y2, score`` in input
  pixels and ``labels`` ``(1, N)``. A person-only detector may have no
  ``labels`` output.
* RTMPose (SimCC): input ``(B, 3, H, W)`` (256x192 for the COCO body
  models; B fixed to 1 or dynamic), outputs ``simcc_x`` ``(B, K, W * r)``
  and ``simcc_y`` ``(B, K, H * r)`` with split ratio r (2.0).

Outputs are found by these names, else taken in this order (as rtmlib
does). Pre/post-processing: :mod:`.rtm_transforms`.
"""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

from .estimator import PoseEstimator
from .rtm_transforms import (RTMDET_MEAN_BGR, RTMDET_STD_BGR,
                             RTMPOSE_MEAN_RGB, RTMPOSE_STD_RGB,
                             box_center_scale, crop_persons, decode_simcc,
                             letterbox, to_blob, to_image)

ONNX_EXTRA_HINT = (
    'onnxruntime is not installed: pip install "mmskelcl[pose-onnx]" '
    '(or pip install onnxruntime; onnxruntime-gpu for a CUDA device)')
#: Input sizes (h, w) assumed when a model's is dynamic (RTMDet-m,
#: RTMPose COCO body).
DEFAULT_DET_HW = (640, 640)
DEFAULT_POSE_HW = (256, 192)


def open_session(path: str, device: str = 'cpu'):
    """An ``onnxruntime.InferenceSession`` of ``path`` on ``device``
    (``'cpu'``, ``'cuda'`` or ``'cuda:N'``)."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ImportError(f'{ONNX_EXTRA_HINT} ({e})') from e
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'ONNX model not found: {path} (RTMDet/RTMPose exported with '
            'MMDeploy, or the ONNX files published with rtmlib/RTMPose)')
    if device == 'cpu':
        providers: list = ['CPUExecutionProvider']
    elif device.split(':')[0] == 'cuda':
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise RuntimeError(
                f'device {device!r}: this onnxruntime has no CUDA provider '
                f'({ort.get_available_providers()}); pip uninstall '
                'onnxruntime && pip install onnxruntime-gpu, or use --device '
                'cpu')
        index = int(device.split(':')[1]) if ':' in device else 0
        providers = [('CUDAExecutionProvider', dict(device_id=index)),
                     'CPUExecutionProvider']
    else:
        raise ValueError(f'device {device!r}: use cpu, cuda or cuda:N')
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(path, sess_options=options,
                                providers=providers)


def _input_hw(session, path: str,
              default: Tuple[int, int]) -> Tuple[int, int]:
    """(h, w) of the model's image input (B, 3, H, W); ``default`` if it
    is dynamic."""
    shape = session.get_inputs()[0].shape
    if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
        raise ValueError(f'{path}: input {shape} is not an image batch '
                         '(B, 3, H, W)')
    h, w = shape[2:]
    if isinstance(h, int) and isinstance(w, int):
        return h, w
    return default


def _output_names(session, wanted: List[str]) -> List[Optional[str]]:
    """``wanted`` if the model has all of them, else its outputs in order
    (None for those it lacks)."""
    names = [o.name for o in session.get_outputs()]
    if all(n in names for n in wanted):
        return list(wanted)
    return [names[i] if i < len(names) else None for i in range(len(wanted))]


class ONNXPoseEstimator(PoseEstimator):
    """RTMDet person detector + RTMPose top-down estimator (ONNX).

    Args:
        pose_onnx (str): RTMPose ONNX file (COCO-17 for PySKL's layout).
        det_onnx (str, optional): RTMDet ONNX file (with NMS); None when
            boxes come from a ground-truth file.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        det_cat_id (int): The person label of the detector (0 on COCO).
    """

    def __init__(self, pose_onnx: str, det_onnx: Optional[str] = None,
                 device: str = 'cpu', det_cat_id: int = 0) -> None:
        self.pose = open_session(pose_onnx, device)
        self.pose_path = pose_onnx
        h, w = _input_hw(self.pose, pose_onnx, DEFAULT_POSE_HW)
        self.pose_wh = (w, h)
        self.pose_input = self.pose.get_inputs()[0].name
        self.pose_batch_one = self.pose.get_inputs()[0].shape[0] == 1
        self.pose_outputs = _output_names(self.pose, ['simcc_x', 'simcc_y'])
        if None in self.pose_outputs:
            raise ValueError(f'{pose_onnx}: an RTMPose model has two '
                             'outputs (simcc_x, simcc_y), this one has '
                             f'{[o.name for o in self.pose.get_outputs()]}')
        k = self.pose.get_outputs()[0].shape
        if len(k) == 3 and isinstance(k[1], int):
            self.num_keypoints = k[1]
        self.det = self.det_names = None
        self.det_cat_id = det_cat_id
        if det_onnx is not None:
            self.det = open_session(det_onnx, device)
            self.det_path = det_onnx
            self.det_hw = _input_hw(self.det, det_onnx, DEFAULT_DET_HW)
            self.det_input = self.det.get_inputs()[0].name
            self.det_names = _output_names(self.det, ['dets', 'labels'])

    def detect(self, frame: np.ndarray) -> np.ndarray:
        if self.det is None:
            return super().detect(frame)
        padded, factors = letterbox(frame, self.det_hw)
        blob = to_blob(padded, RTMDET_MEAN_BGR, RTMDET_STD_BGR)
        names = [n for n in self.det_names if n is not None]
        outs = dict(zip(names, self.det.run(names, {self.det_input: blob})))
        dets = np.asarray(outs[self.det_names[0]], np.float64)
        if dets.ndim != 3 or dets.shape[0] != 1 or dets.shape[2] != 5:
            raise ValueError(
                f'{self.det_path}: detections {dets.shape}, expected (1, N, '
                '5) x1, y1, x2, y2, score: export RTMDet with its NMS '
                '(MMDeploy end2end model)')
        dets = dets[0]
        if self.det_names[1] is not None:
            labels = np.asarray(outs[self.det_names[1]]).reshape(-1)
            dets = dets[labels.astype(np.int64) == self.det_cat_id]
        boxes = dets[:, :4] / np.tile(factors, 2)
        h, w = frame.shape[:2]
        boxes = np.clip(boxes, 0, [w, h, w, h])
        return np.concatenate([boxes, dets[:, 4:]], 1).astype(np.float32)

    def estimate(self, frame: np.ndarray,
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        if len(boxes) == 0:
            raise ValueError('estimate() needs at least one box')
        centers, scales = box_center_scale(boxes, self.pose_wh)
        scales = np.maximum(scales, 1.0)  # a degenerate box: a 1-px crop
        crops = crop_persons(frame, centers, scales, self.pose_wh)
        blob = to_blob(crops[..., ::-1], RTMPOSE_MEAN_RGB, RTMPOSE_STD_RGB)
        batches = [blob[i:i + 1] for i in range(len(blob))] \
            if self.pose_batch_one else [blob]
        outs = [self.pose.run(self.pose_outputs, {self.pose_input: b})
                for b in batches]
        simcc_x = np.concatenate([o[0] for o in outs])
        simcc_y = np.concatenate([o[1] for o in outs])
        w, h = self.pose_wh
        n, k = len(boxes), self.num_keypoints
        if simcc_x.shape[:2] != (n, k) or simcc_y.shape[:2] != (n, k) or \
                simcc_x.shape[2] * h != simcc_y.shape[2] * w:
            raise ValueError(
                f'{self.pose_path}: simcc_x {simcc_x.shape} and simcc_y '
                f'{simcc_y.shape} for {n} box(es) and a {w}x{h} input; '
                f'expected ({n}, {k}, {w}*r) and ({n}, {k}, {h}*r)')
        keypoints, scores = decode_simcc(simcc_x, simcc_y,
                                         simcc_x.shape[2] / w)
        return to_image(keypoints, centers, scales, self.pose_wh), scores
