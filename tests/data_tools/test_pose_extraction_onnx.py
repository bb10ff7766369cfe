"""The ONNX backend of the 2D extraction (RTMDet + RTMPose through
onnxruntime): pre/post-processing checked by hand, the estimator on tiny
ONNX models with the real signatures (tests/data_tools/_onnx_models.py),
and the tool end to end on generated videos, validated by check_pkl."""
import json

import numpy as np
import pytest

from mmskelcl.datasets.pose_extraction import ONNXPoseEstimator
from mmskelcl.datasets.pose_extraction.rtm_transforms import (
    RTMDET_MEAN_BGR, RTMDET_STD_BGR, box_center_scale, crop_matrix,
    crop_persons, decode_simcc, letterbox, to_blob, to_image)
from ._helpers import SQUARE, load, load_tool, square_top_left, write_video
from ._onnx_models import FIRST, LAST, make_rtmdet, make_rtmpose

POSE_WH = (192, 256)


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp('onnx')
    return dict(det=make_rtmdet(root / 'rtmdet.onnx'),
                pose=make_rtmpose(root / 'rtmpose.onnx'),
                pose_b1=make_rtmpose(root / 'rtmpose_b1.onnx', batch=1),
                pose_r3=make_rtmpose(root / 'rtmpose_r3.onnx', ratio=3),
                pose_named=make_rtmpose(root / 'other.onnx',
                                        names=('out_a', 'out_b')),
                det_raw=make_rtmdet(root / 'raw.onnx', box_dim=6),
                det_dynamic=make_rtmdet(root / 'dyn.onnx', dynamic=True))


def _square_frame(x, y, bgr, size=SQUARE):
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[y:y + size, x:x + size] = bgr
    return frame


def _edges(x, y, size=SQUARE):
    """Expected keypoints of the stand-in pose model: the square's outer
    pixel edges (pixel centres are integers), first and last."""
    return np.array([x - 0.5, y - 0.5]), np.array([x + size - 0.5,
                                                   y + size - 0.5])


# ------------------------------------------------ transforms, by hand
def test_simcc_decoding_and_back_projection_by_hand():
    center, scale = box_center_scale(np.array([[100, 50, 160, 130.]]),
                                     POSE_WH)
    # 60x80 box * 1.25 = 75x100, already 192:256
    np.testing.assert_allclose(center, [[130, 90]])
    np.testing.assert_allclose(scale, [[75, 100]])
    simcc_x, simcc_y = np.zeros((1, 3, 384)), np.zeros((1, 3, 512))
    simcc_x[0, 0, 192], simcc_y[0, 0, 256] = 0.8, 0.6
    simcc_x[0, 1, 383], simcc_y[0, 1, 100] = 0.5, 0.7
    simcc_x[0, 2], simcc_y[0, 2] = -0.2, -0.3  # no positive logit
    locs, scores = decode_simcc(simcc_x, simcc_y, 2.0)
    np.testing.assert_allclose(locs[0], [[96, 128], [191.5, 50],
                                         [-0.5, -0.5]])
    np.testing.assert_allclose(scores[0], [0.6, 0.5, -0.3], atol=1e-6)
    kps = to_image(locs, center, scale, POSE_WH)
    # x = x_in / 192 * 75 + 130 - 37.5; y = y_in / 256 * 100 + 90 - 50
    np.testing.assert_allclose(kps[0], [[130, 90], [167.3046875, 59.53125],
                                        [92.3046875, 39.8046875]],
                               atol=1e-4)
    # a wide box: the height follows the width (250 / 0.75)
    center, scale = box_center_scale(np.array([[0, 0, 200, 50.]]), POSE_WH)
    np.testing.assert_allclose(scale, [[250, 1000 / 3]])
    kps = to_image(np.array([[[48., 0.]]]), center, scale, POSE_WH)
    np.testing.assert_allclose(kps[0, 0], [37.5, 25 - 500 / 3])


def test_crop_matrix_and_crop_round_trip():
    center, scale = np.array([130., 90.]), np.array([75., 100.])
    m = crop_matrix(center, scale, POSE_WH)
    np.testing.assert_allclose(m, [[2.56, 0, -236.8], [0, 2.56, -102.4]])
    corner = m @ np.array([92.5, 40, 1])  # top-left of the crop
    np.testing.assert_allclose(corner, [0, 0], atol=1e-9)
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[70, 110] = 255  # one bright pixel, 20 px up-left of the centre
    crop = crop_persons(frame, center[None], scale[None], POSE_WH)
    assert crop.shape == (1, 256, 192, 3)
    v, u = np.unravel_index(crop[0, ..., 0].argmax(), (256, 192))
    np.testing.assert_allclose([u, v], [96 - 20 * 2.56, 128 - 20 * 2.56],
                               atol=0.5)
    back = to_image(np.array([[[u, v]]], float), center[None], scale[None],
                    POSE_WH)
    np.testing.assert_allclose(back[0, 0], [110, 70], atol=0.2)


def test_letterbox_and_normalisation():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    padded, factors = letterbox(frame, (640, 640))
    np.testing.assert_array_equal(factors, [2, 2])
    assert (padded[480:] == 114).all()
    assert abs(padded[:480].astype(float).mean() - frame.mean()) < 1
    # 301x100 * 640 / 301: 640x212.6, rounded to 213 rows (MMCV's rescale)
    padded, factors = letterbox(frame[:100, :301], (640, 640))
    np.testing.assert_allclose(factors, [640 / 301, 213 / 100])
    assert (padded[213:] == 114).all() and not (padded[212] == 114).all()
    pixel = np.array([[[103.53 + 57.375, 116.28, 123.675 - 2 * 58.395]]])
    blob = to_blob(pixel, RTMDET_MEAN_BGR, RTMDET_STD_BGR)
    assert blob.shape == (1, 3, 1, 1) and blob.dtype == np.float32
    np.testing.assert_allclose(blob.ravel(), [1, 0, -2], atol=1e-6)


# ------------------------------------------------------- the estimator
def test_detector_rescales_filters_labels_and_reads_bgr(models):
    est = ONNXPoseEstimator(models['pose'], models['det'])
    boxes = est.detect(_square_frame(30, 100, (255, 0, 0)))  # blue
    assert boxes.dtype == np.float32 and boxes.shape == (1, 5)
    np.testing.assert_allclose(boxes[0], [30, 100, 90, 160, 0.95], atol=0.6)
    # channel 0 is blue (BGR): a red square is nobody (score 0)
    assert est.detect(_square_frame(30, 100, (0, 0, 255)))[0, 4] == 0
    # a dynamic input size is RTMDet's 640x640
    dyn = ONNXPoseEstimator(models['pose'], models['det_dynamic'])
    assert dyn.det_hw == (640, 640)
    np.testing.assert_array_equal(
        dyn.detect(_square_frame(30, 100, (255, 0, 0))), boxes)
    # label 2 only: the full 640x640 input box, in frame pixels, clipped
    other = ONNXPoseEstimator(models['pose'], models['det'], det_cat_id=2)
    np.testing.assert_allclose(
        other.detect(_square_frame(30, 100, (255, 0, 0))),
        [[0, 0, 320, 240, 0.99]], atol=1e-5)


def test_pose_keypoints_in_frame_pixels_and_rgb(models):
    est = ONNXPoseEstimator(models['pose'])
    assert est.num_keypoints == 17 and est.pose_wh == POSE_WH
    frame = _square_frame(30, 100, (0, 0, 255))  # red: channel 0 in RGB
    boxes = np.array([[30, 100, 90, 160, 1.0], [20, 90, 100, 170, 0.5]])
    kps, scores = est.estimate(frame, boxes)
    assert kps.shape == (2, 17, 2) and kps.dtype == np.float32
    first, last = _edges(30, 100)
    for person in range(2):  # crops of either box find the same square
        np.testing.assert_allclose(kps[person, FIRST],
                                   np.tile(first, (9, 1)), atol=0.4)
        np.testing.assert_allclose(kps[person, LAST], np.tile(last, (8, 1)),
                                   atol=0.4)
    assert ((scores > 0.79) & (scores < 0.91)).all()
    # the split ratio comes from the output length (3 bins per pixel here)
    kps3, _ = ONNXPoseEstimator(models['pose_r3']).estimate(frame, boxes)
    np.testing.assert_allclose(kps3[:, FIRST], kps[:, FIRST], atol=0.4)
    np.testing.assert_allclose(kps3[:, LAST], kps[:, LAST], atol=0.4)
    # a blue square is dark in the R channel: zero logits, score 0 and
    # MMPose's "no maximum" location (-1 bin) mapped back to the frame
    kps, scores = est.estimate(_square_frame(30, 100, (255, 0, 0)),
                               boxes[:1])
    assert (scores == 0).all()
    np.testing.assert_allclose(kps[0, 0], [22.5 - 0.5 * 75 / 192,
                                           80 - 0.5 * 100 / 256], atol=1e-4)
    with pytest.raises(ValueError, match='at least one box'):
        est.estimate(frame, np.zeros((0, 5)))
    with pytest.raises(NotImplementedError, match='no person detector'):
        est.detect(frame)


def test_fixed_batch_and_unnamed_outputs_agree(models):
    frame = _square_frame(200, 60, (255, 255, 255))
    boxes = np.array([[200, 60, 260, 120], [190, 50, 270, 130.]])
    ref = ONNXPoseEstimator(models['pose']).estimate(frame, boxes)
    for name in ('pose_b1', 'pose_named'):
        est = ONNXPoseEstimator(models[name])
        assert est.pose_batch_one == (name == 'pose_b1')
        for a, b in zip(est.estimate(frame, boxes), ref):
            np.testing.assert_array_equal(a, b)


def test_errors_name_the_fix(models, tmp_path):
    raw = ONNXPoseEstimator(models['pose'], models['det_raw'])
    with pytest.raises(ValueError, match='export RTMDet with its NMS'):
        raw.detect(_square_frame(30, 100, (255, 0, 0)))
    with pytest.raises(FileNotFoundError, match='ONNX model not found'):
        ONNXPoseEstimator(str(tmp_path / 'none.onnx'))
    with pytest.raises(ValueError, match='use cpu, cuda or cuda:N'):
        ONNXPoseEstimator(models['pose'], device='tpu')
    import onnxruntime as ort
    if 'CUDAExecutionProvider' in ort.get_available_providers():
        assert ONNXPoseEstimator(models['pose'], device='cuda:0')
    else:
        with pytest.raises(RuntimeError, match='onnxruntime-gpu'):
            ONNXPoseEstimator(models['pose'], device='cuda:0')


# ------------------------------------------------------------ the tool
def test_tool_end_to_end_with_detector(models, tmp_path):
    tool, check_pkl = load_tool('extract_2d_skeleton'), load_tool('check_pkl')
    write_video(tmp_path / 'solo.avi', num_frames=8, persons=(0, ),
                blank=(2, ))
    write_video(tmp_path / 'other.avi', num_frames=5, persons=(1, ),
                blank=())
    (tmp_path / 'list.txt').write_text('solo.avi 0\nother.avi 1\n')
    (tmp_path / 'split.txt').write_text('solo train\nother val\n')
    out = str(tmp_path / 'out.pkl')
    assert tool.main([str(tmp_path / 'list.txt'), out, '--split-file',
                      str(tmp_path / 'split.txt'), '--backend', 'onnx',
                      '--det-onnx', models['det'], '--pose-onnx',
                      models['pose']]) == 0
    assert check_pkl.main([out, '--num-classes', '2']) == 0
    data = load(out)
    assert data['split'] == dict(train=['solo'], val=['other'])
    for anno, person in zip(data['annotations'], (0, 1)):
        kp, score = anno['keypoint'], anno['keypoint_score']
        t_all = anno['total_frames']
        assert anno['img_shape'] == (240, 320) and kp.dtype == np.float16
        assert kp.shape == (1, t_all, 17, 2) and score.shape == (1, t_all,
                                                                 17)
        for t in range(t_all):
            if person == 0 and t == 2:  # nobody: the frame stays, zero
                assert not kp[0, t].any() and not score[0, t].any()
                continue
            first, last = _edges(*square_top_left(person, t))
            np.testing.assert_allclose(kp[0, t, FIRST],
                                       np.tile(first, (9, 1)), atol=1.0)
            np.testing.assert_allclose(kp[0, t, LAST],
                                       np.tile(last, (8, 1)), atol=1.0)
            assert (score[0, t] > 0.79).all()


def test_tool_ground_truth_boxes_and_flags(models, tmp_path):
    tool, check_pkl = load_tool('extract_2d_skeleton'), load_tool('check_pkl')
    write_video(tmp_path / 'gym.avi', num_frames=6, blank=())  # 2 persons
    boxes = {'gym': [[x, y, x + SQUARE, y + SQUARE]
                     for x, y in (square_top_left(1, t) for t in range(6))]}
    (tmp_path / 'boxes.json').write_text(json.dumps(boxes))
    (tmp_path / 'list.txt').write_text('gym.avi 5\n')
    out = str(tmp_path / 'gym.pkl')
    args = [str(tmp_path / 'list.txt'), out, '--gt-boxes',
            str(tmp_path / 'boxes.json'), '--max-persons', '1', '--backend',
            'onnx', '--pose-onnx', models['pose']]
    assert tool.main(args) == 0
    assert check_pkl.main([out]) == 0
    kp = load(out)['annotations'][0]['keypoint']
    assert kp.shape == (1, 6, 17, 2)  # person 1 only, person 0 unseen
    first, last = _edges(*square_top_left(1, 5))
    np.testing.assert_allclose(kp[0, 5, FIRST], np.tile(first, (9, 1)),
                               atol=1.0)
    np.testing.assert_allclose(kp[0, 5, LAST], np.tile(last, (8, 1)),
                               atol=1.0)
    with pytest.raises(SystemExit):  # onnx needs --pose-onnx
        tool.parse_args([str(tmp_path / 'list.txt'), out, '--backend',
                         'onnx', '--det-onnx', models['det']])
    with pytest.raises(SystemExit):  # ... and a detector or boxes
        tool.parse_args([str(tmp_path / 'list.txt'), out, '--backend',
                         'onnx', '--pose-onnx', models['pose']])


def test_tool_resumes_only_with_the_same_models(models, tmp_path):
    tool = load_tool('extract_2d_skeleton')
    for name in ('a', 'b'):
        write_video(tmp_path / f'{name}.avi', num_frames=3, persons=(0, ),
                    blank=())
    (tmp_path / 'list.txt').write_text('a.avi 0\nb.avi 1\n')
    out = str(tmp_path / 'out.pkl')
    args = [str(tmp_path / 'list.txt'), out, '--save-every', '1',
            '--backend', 'onnx', '--det-onnx', models['det'], '--pose-onnx']
    seen = []

    def counting(pose, kill_at=None):
        def make():
            est = tool.build_estimator(tool.parse_args(args + [pose]))
            estimate = est.estimate

            def counted(frame, boxes):
                if len(seen) == kill_at:
                    raise KeyboardInterrupt
                seen.append(1)
                return estimate(frame, boxes)

            est.estimate = counted
            return est
        return make

    with pytest.raises(KeyboardInterrupt):  # killed in video b
        tool.main(args + [models['pose']], counting(models['pose'], 4))
    seen.clear()  # other pose model: video a is not taken from the cache
    with pytest.raises(KeyboardInterrupt):
        tool.main(args + [models['pose_b1']], counting(models['pose_b1'], 4))
    seen.clear()  # same model again: only video b is redone
    assert tool.main(args + [models['pose_b1']],
                     counting(models['pose_b1'])) == 0
    assert len(seen) == 3
