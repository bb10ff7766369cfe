"""The real MMDetection + MMPose path of the 2D extraction, end to end.

Runs only where the optional ``pose`` extra is installed (README, "Pose
extraction (optional)"); elsewhere it is skipped with the import error.
The models are built from MMPose's and MMDetection's own bundled configs
(HRNet-w32 COCO-17 top-down, Faster R-CNN R50-FPN) with RANDOM weights
(no checkpoint): this is a plumbing test of shapes, dtypes, time alignment
and the written pickle, not of pose quality, and it downloads nothing.
"""
import json

import numpy as np
import pytest

from ._helpers import load, load_tool, square_top_left, write_video

try:
    import mmdet.apis  # noqa: F401
    import mmpose.apis  # noqa: F401
    SKIP_REASON = None
except Exception as e:  # ImportError, or a torchvision/mmcv ops mismatch
    SKIP_REASON = (
        'MMPose/MMDetection are not importable here '
        f'({type(e).__name__}: {e}); install the optional "pose" extra as '
        'the README\'s "Pose extraction (optional)" section says to run the '
        'real estimator path (the rest of the extraction is tested without '
        'it in test_pose_extraction.py)')

pytestmark = pytest.mark.skipif(SKIP_REASON is not None,
                                reason=SKIP_REASON or '')

POSE_CONFIG = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
               'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
DET_CONFIG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
FRAMES = 4


@pytest.fixture(scope='module')
def estimator():
    from mmskelcl.datasets.pose_extraction import MMPoseEstimator
    return MMPoseEstimator(POSE_CONFIG, None, DET_CONFIG, None, device='cpu')


def test_detector_and_pose_on_generated_video(estimator, tmp_path):
    from mmskelcl.datasets.pose_extraction import (FrameBoxes, extract_video,
                                                   read_frames)
    path = write_video(tmp_path / 'clip.avi', num_frames=FRAMES, blank=(2, ))
    frame = next(read_frames(path))
    boxes = estimator.detect(frame)  # random weights: any number of boxes
    assert boxes.ndim == 2 and boxes.shape[1] == 5 and boxes.dtype == \
        np.float32
    kps, scores = estimator.estimate(frame, np.array([[30, 10, 90, 70]]))
    assert kps.shape == (1, 17, 2) and scores.shape == (1, 17)
    assert np.isfinite(kps).all() and np.isfinite(scores).all()

    # the full per-video path with the detector (thresholds off) ...
    anno = extract_video(path, estimator, det_score_thr=0.0,
                         det_area_thr=0.0)
    assert anno['total_frames'] == FRAMES and anno['img_shape'] == (240, 320)
    assert anno['keypoint'].shape[1:] == (FRAMES, 17, 2)
    # ... and with ground-truth boxes: person 0, none in frame 2
    gt = np.zeros((FRAMES, 4))
    for t in (0, 1, 3):
        x, y = square_top_left(0, t)
        gt[t] = [x, y, x + 60, y + 60]
    anno = extract_video(path, estimator, FrameBoxes(gt, 'gt: clip'),
                         max_persons=1)
    assert anno['keypoint'].shape == (1, FRAMES, 17, 2)
    assert anno['keypoint'].dtype == np.float16
    assert not anno['keypoint_score'][0, 2].any()  # time kept, frame empty


def test_tool_end_to_end(estimator, tmp_path):
    tool, check_pkl = load_tool('extract_2d_skeleton'), load_tool('check_pkl')
    for name in ('a', 'b'):
        write_video(tmp_path / f'{name}.avi', num_frames=FRAMES, blank=())
    boxes = {n: [[30, 10 + 10 * t, 90, 70 + 10 * t] for t in range(FRAMES)]
             for n in ('a', 'b')}
    (tmp_path / 'boxes.json').write_text(json.dumps(boxes))
    (tmp_path / 'list.txt').write_text('a.avi 0\nb.avi 1\n')
    (tmp_path / 'split.txt').write_text('a train\nb val\n')
    out = str(tmp_path / 'out.pkl')
    assert tool.main([str(tmp_path / 'list.txt'), out, '--split-file',
                      str(tmp_path / 'split.txt'), '--gt-boxes',
                      str(tmp_path / 'boxes.json'), '--max-persons', '1'],
                     make_estimator=lambda: estimator) == 0
    assert check_pkl.main([out]) == 0
    assert load(out)['split'] == dict(train=['a'], val=['b'])
