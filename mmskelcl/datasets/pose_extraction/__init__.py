"""2D pose extraction from videos (PySKL's recipe, with identity tracking).

Two backends implement :class:`~.estimator.PoseEstimator`:
:class:`~.estimator.MMPoseEstimator` needs MMPose / MMDetection (the
optional ``pose`` extra) and :class:`~.onnx_estimator.ONNXPoseEstimator`
needs onnxruntime (the ``pose-onnx`` extra), each only when it is built.
"""
from .assemble import TrackRecorder, is_empty, make_annotation
from .boxes import (DET_AREA_THR, DET_SCORE_THR, BoxFormatError, FrameBoxes,
                    filter_boxes, load_box_file)
from .estimator import MMPoseEstimator, PoseEstimator, resolve_config
from .extract import (extract_video, extract_videos, read_split_file,
                      read_video_list)
from .onnx_estimator import ONNXPoseEstimator
from .tracker import PoseTracker, box_iou
from .video import VideoReadError, read_frames, video_id

__all__ = [
    'TrackRecorder', 'is_empty', 'make_annotation', 'DET_AREA_THR',
    'DET_SCORE_THR', 'BoxFormatError', 'FrameBoxes', 'filter_boxes',
    'load_box_file', 'MMPoseEstimator', 'ONNXPoseEstimator', 'PoseEstimator',
    'resolve_config', 'extract_video', 'extract_videos', 'read_split_file',
    'read_video_list', 'PoseTracker', 'box_iou', 'VideoReadError',
    'read_frames', 'video_id'
]
