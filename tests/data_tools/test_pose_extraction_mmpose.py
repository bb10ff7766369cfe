"""The real MMDetection + MMPose path of the 2D extraction, end to end.

Runs where MMDetection and MMPose import: ``make test-pose`` builds that
environment (tools/pose_env.sh, ``.venv-pose``) and runs this file in it
with ``MMSKELCL_REQUIRE_MMPOSE=1``, under which an import error fails the
run; in the main venv every test here is skipped with the import error.

The models are built from the packages' own bundled configs (MMDetection's
Faster R-CNN R50-FPN, MMPose's HRNet-w32 COCO-17 256x192 top-down) with
random weights, since no checkpoint can be downloaded here. The
checkpoints the tests give the tool are state dicts of those random models:

* the pose model's, saved and loaded back (also with MMPose 0.x key names,
  the format of PySKL's HRNet checkpoint), must give the same keypoints;
* the detector's has its last layers set so that, whatever the rest of the
  random weights, every box grows past the frame and is clipped to it, and
  the person class wins: the detector then finds exactly one person, the
  whole frame, which the tests check in the original frame's pixels.

Every keypoint of the written pickles is compared with MMDetection's and
MMPose's own inference APIs called directly on the frames (read here with
OpenCV), so the tool's plumbing (frames, boxes, time alignment, tracking,
writing) is checked against the packages, not against itself.
"""
import json
import os
import warnings

import numpy as np
import pytest
import torch

from ._helpers import load, load_tool, square_top_left, write_video

try:
    import mmdet.apis  # noqa: F401
    import mmpose.apis  # noqa: F401
    SKIP_REASON = None
except Exception as e:  # ImportError, or a torchvision/mmcv ops mismatch
    SKIP_REASON = (
        'MMPose/MMDetection are not importable here '
        f'({type(e).__name__}: {e}); `make test-pose` builds their '
        'environment (tools/pose_env.sh) and runs these tests in it (the '
        'rest of the extraction is tested without them in '
        'test_pose_extraction.py)')

# `make test-pose` (and so CI) sets MMSKELCL_REQUIRE_MMPOSE=1: there a
# broken environment is a failure, never a skip.
if SKIP_REASON is not None and os.environ.get(
        'MMSKELCL_REQUIRE_MMPOSE') == '1':
    raise ImportError(SKIP_REASON.split('; `make')[0])

pytestmark = pytest.mark.skipif(SKIP_REASON is not None,
                                reason=SKIP_REASON or '')

POSE_CONFIG = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
               'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
DET_CONFIG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
FRAMES = 4
H, W = 240, 320
# DeltaXYWHBBoxCoder clamps log-size deltas at |log(16 / 1000)|; the RoI
# head's deltas are scaled by its target_stds (0.2 for w, h).
BIG_LOG_SIZE = 50.0


def read_video(path):
    """Frames (BGR uint8), read with OpenCV directly."""
    import cv2
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def direct_pose(model, frame, boxes):
    """MMPose's top-down API on ``boxes`` (N, 4): (N, 17, 2), (N, 17)."""
    from mmpose.apis import inference_topdown
    res = inference_topdown(model, frame, np.asarray(boxes, np.float32),
                            bbox_format='xyxy')
    return (np.stack([r.pred_instances.keypoints[0] for r in res]),
            np.stack([r.pred_instances.keypoint_scores[0] for r in res]))


def direct_persons(model, frame, score_thr=0.7):
    """MMDetection's API: person boxes (N, 5) with score >= score_thr."""
    from mmdet.apis import inference_detector
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        inst = inference_detector(model, frame).pred_instances.cpu().numpy()
    keep = (inst.labels == 0) & (inst.scores >= score_thr)
    return np.concatenate([inst.bboxes[keep], inst.scores[keep, None]], 1)


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """The random models, their checkpoints and the reference models
    loaded back from those checkpoints with the packages' own APIs."""
    from mmdet.apis import init_detector
    from mmpose.apis import init_model

    from mmskelcl.datasets.pose_extraction import resolve_config
    root = tmp_path_factory.mktemp('ckpt')
    warnings.filterwarnings('ignore', 'checkpoint is None')
    torch.manual_seed(0)
    pose = init_model(resolve_config(POSE_CONFIG), None, device='cpu')
    pose_ckpt = str(root / 'hrnet_random.pth')
    torch.save(pose.state_dict(), pose_ckpt)
    # the MMPose 0.x layout (PySKL's HRNet checkpoint): keypoint_head.*,
    # no version metadata
    old = {k.replace('head.', 'keypoint_head.', 1) if k.startswith('head.')
           else k: v for k, v in pose.state_dict().items()}
    assert any(k.startswith('keypoint_head.') for k in old)
    pose_ckpt_0x = str(root / 'hrnet_random_0x.pth')
    torch.save({'state_dict': old}, pose_ckpt_0x)

    torch.manual_seed(0)
    det = init_detector(resolve_config(DET_CONFIG), None, device='cpu')
    state = det.state_dict()
    for name, std in (('rpn_head.rpn_reg', 1.0),
                      ('roi_head.bbox_head.fc_reg', 0.2)):
        state[f'{name}.weight'].zero_()
        bias = state[f'{name}.bias'].view(-1, 4)
        bias[:, :2] = 0  # centres stay, sizes grow past the frame
        bias[:, 2:] = BIG_LOG_SIZE / std
    state['roi_head.bbox_head.fc_cls.weight'].zero_()
    cls_bias = state['roi_head.bbox_head.fc_cls.bias']
    cls_bias.zero_()
    cls_bias[0] = 10.0  # person; softmax score e^10 / (e^10 + 80)
    det_ckpt = str(root / 'faster_rcnn_fullframe.pth')
    torch.save(state, det_ckpt)
    return dict(pose_ckpt=pose_ckpt, pose_ckpt_0x=pose_ckpt_0x,
                det_ckpt=det_ckpt, pose_random=pose,
                pose_ref=init_model(resolve_config(POSE_CONFIG), pose_ckpt,
                                    device='cpu'),
                det_ref=init_detector(resolve_config(DET_CONFIG), det_ckpt,
                                      device='cpu'))


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp('video') / 'clip.avi'
    write_video(path, num_frames=FRAMES, blank=(2, ))
    return str(path), read_video(path)


def test_checkpoint_path_is_loaded(models, clip):
    from mmskelcl.datasets.pose_extraction import MMPoseEstimator
    frame = clip[1][0]
    box = np.array([[30, 10, 90, 70.]])
    ref_kps, ref_scores = direct_pose(models['pose_random'], frame, box)
    assert np.unique(ref_kps.round(), axis=1).shape[1] > 3  # not degenerate
    for ckpt in (models['pose_ckpt'], models['pose_ckpt_0x']):
        torch.manual_seed(1)  # another random init, replaced by the file
        est = MMPoseEstimator(POSE_CONFIG, ckpt, device='cpu')
        kps, scores = est.estimate(frame, box)
        np.testing.assert_array_equal(kps, ref_kps)
        np.testing.assert_array_equal(scores, ref_scores)
    torch.manual_seed(1)
    unloaded = MMPoseEstimator(POSE_CONFIG, None, device='cpu')
    kps, scores = unloaded.estimate(frame, box)
    assert not np.array_equal(scores, ref_scores)  # the file made the change


def test_detector_finds_the_whole_frame(models, clip):
    from mmskelcl.datasets.pose_extraction import MMPoseEstimator
    est = MMPoseEstimator(POSE_CONFIG, models['pose_ckpt'], DET_CONFIG,
                          models['det_ckpt'], device='cpu')
    expected_score = np.exp(10) / (np.exp(10) + 80)
    for frame in clip[1][:2]:
        # the detector after a pose call (MMPose switches the registry
        # scope) and before one
        est.estimate(frame, np.array([[30, 10, 90, 70.]]))
        boxes = est.detect(frame)
        assert boxes.shape == (1, 5) and boxes.dtype == np.float32
        np.testing.assert_allclose(boxes[0, :4], [0, 0, W, H], atol=0.01)
        np.testing.assert_allclose(boxes[0, 4], expected_score, rtol=1e-4)
        np.testing.assert_allclose(direct_persons(models['det_ref'], frame),
                                   boxes, rtol=1e-5, atol=1e-3)


def assert_float16_of(stored, reference):
    """``stored`` (float16) is ``reference`` (float32) rounded to float16
    (relative spacing 2**-10)."""
    assert stored.dtype == np.float16
    np.testing.assert_allclose(stored.astype(np.float32), reference,
                               rtol=2**-10, atol=1e-6)


def run_tool(tmp_path, args):
    tool, check_pkl = load_tool('extract_2d_skeleton'), load_tool('check_pkl')
    out = str(tmp_path / 'out.pkl')
    assert tool.main([str(tmp_path / 'list.txt'), out, '--split-file',
                      str(tmp_path / 'split.txt'), '--device', 'cpu',
                      '--pose-config', POSE_CONFIG] + args) == 0
    assert check_pkl.main([out]) == 0
    return load(out)


def test_tool_with_the_detector(models, clip, tmp_path):
    path, frames = clip
    (tmp_path / 'list.txt').write_text(f'{path} 3\n')
    (tmp_path / 'split.txt').write_text('clip train\n')
    data = run_tool(tmp_path, [
        '--pose-checkpoint', models['pose_ckpt'], '--det-config', DET_CONFIG,
        '--det-checkpoint', models['det_ckpt']
    ])
    assert data['split'] == dict(train=['clip'])
    [anno] = data['annotations']
    assert anno['frame_dir'] == 'clip' and anno['label'] == 3
    assert anno['total_frames'] == FRAMES and anno['img_shape'] == (H, W)
    assert anno['keypoint'].shape == (1, FRAMES, 17, 2)
    assert anno['keypoint'].dtype == np.float16
    for t, frame in enumerate(frames):  # the blank frame too: it is a box
        boxes = direct_persons(models['det_ref'], frame)
        assert len(boxes) == 1
        kps, scores = direct_pose(models['pose_ref'], frame, boxes[:, :4])
        assert_float16_of(anno['keypoint'][0, t], kps[0])
        assert_float16_of(anno['keypoint_score'][0, t], scores[0])


def test_tool_with_ground_truth_boxes(models, tmp_path):
    boxes, videos = {}, {}
    for name in ('a', 'b'):
        path = write_video(tmp_path / f'{name}.avi', num_frames=FRAMES,
                           persons=(0, ), blank=(2, ))
        videos[name] = read_video(path)
        rows = []
        for t in range(FRAMES):  # person 0's square; none in frame 2
            x, y = square_top_left(0, t)
            rows.append([0, 0, 0, 0] if t == 2 else [x, y, x + 60, y + 60])
        boxes[name] = rows
    (tmp_path / 'boxes.json').write_text(json.dumps(boxes))
    (tmp_path / 'list.txt').write_text('a.avi 0\nb.avi 1\n')
    (tmp_path / 'split.txt').write_text('a train\nb val\n')
    data = run_tool(tmp_path, [
        '--pose-checkpoint', models['pose_ckpt'], '--gt-boxes',
        str(tmp_path / 'boxes.json'), '--max-persons', '1'
    ])
    assert data['split'] == dict(train=['a'], val=['b'])
    for anno in data['annotations']:
        name = anno['frame_dir']
        assert anno['keypoint'].shape == (1, FRAMES, 17, 2)
        assert not anno['keypoint_score'][0, 2].any()  # time kept, empty
        assert not anno['keypoint'][0, 2].any()
        for t in (0, 1, 3):
            kps, scores = direct_pose(models['pose_ref'], videos[name][t],
                                      [boxes[name][t]])
            assert_float16_of(anno['keypoint'][0, t], kps[0])
            assert_float16_of(anno['keypoint_score'][0, t], scores[0])
