"""2D skeleton extraction without MMPose: video reading, boxes, tracking,
time alignment and writing, on videos generated with cv2.VideoWriter and a
fake estimator (white squares are the persons)."""
import json
import os.path as osp
import pickle
import sys
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

from mmskelcl.datasets.pose_extraction import (BoxFormatError, FrameBoxes,
                                               PoseTracker, TrackRecorder,
                                               VideoReadError, extract_video,
                                               filter_boxes, read_frames,
                                               read_split_file,
                                               read_video_list)
from mmskelcl.datasets.pose_extraction.estimator import (MMPoseEstimator,
                                                         resolve_config)
from ._helpers import (FakeEstimator, expected_keypoints, leftovers, load,
                       load_tool, train_one_iter, write_video)

extract_tool = load_tool('extract_2d_skeleton')
check_pkl = load_tool('check_pkl')
BLANK = (4, 5)


def _person(box_x, box_y, score=0.9):
    box = np.array([[box_x, box_y, box_x + 60, box_y + 60, score]],
                   np.float32)
    kps = np.stack([np.linspace(box_x, box_x + 60, 17),
                    np.full(17, box_y + 30)], axis=1)[None]
    return box, kps.astype(np.float32), np.full((1, 17), score, np.float32)


def _frame(*persons):
    parts = [_person(*p) for p in persons]
    return tuple(np.concatenate(a) for a in zip(*parts))


# ---------------------------------------------------------------- units
def test_filter_boxes_pyskl_thresholds():
    boxes = np.array([[0, 0, 40, 40, 0.7],     # area 1600, score 0.7: kept
                      [0, 0, 40, 39.9, 0.9],   # area < 1600
                      [0, 0, 100, 100, 0.69],  # score < 0.7
                      [10, 10, 110, 60, 1.0]], np.float32)
    kept = filter_boxes(boxes)
    np.testing.assert_array_equal(kept[:, 4], np.float32([0.7, 1.0]))
    assert filter_boxes(np.zeros((0, 5))).shape == (0, 5)


def test_ground_truth_box_forms():
    array = FrameBoxes(np.array([[1, 2, 3, 4], [0, 0, 0, 0], [5, 6, 7, 8]]),
                       'f: v')
    assert [len(array(t)) for t in range(3)] == [1, 0, 1]
    np.testing.assert_array_equal(array(2)[0], [5, 6, 7, 8, 1])
    array.check_length(3)
    with pytest.raises(BoxFormatError, match='f: v: boxes for 3 frames but '
                       'the video has 4'):
        array.check_length(4)
    per_frame = FrameBoxes([[[1, 2, 3, 4, 0.5], [2, 2, 4, 4, 0.6]], []], 'f')
    assert [len(per_frame(t)) for t in range(2)] == [2, 0]
    by_key = FrameBoxes({'3': [1, 2, 3, 4]}, 'f: v')
    assert len(by_key(3)) == 1 and len(by_key(0)) == 0
    with pytest.raises(BoxFormatError, match='frame 3 is outside'):
        by_key.check_length(3)
    with pytest.raises(BoxFormatError, match=r'f: v frame 0: boxes must be '
                       r'\(N, 4\)'):
        FrameBoxes([[[1, 2, 3]]], 'f: v')
    with pytest.raises(BoxFormatError, match='x2 < x1'):
        FrameBoxes([[3, 2, 1, 4]], 'f')


def test_tracker_keeps_identities_when_detection_order_flips():
    tracker = PoseTracker()
    assert tracker.update(0, *_frame((0, 0), (200, 100))) == [0, 1]
    assert tracker.update(1, *_frame((205, 98), (4, 2))) == [1, 0]
    # nobody in frames 2-3; a third person appears next to them
    assert tracker.update(4, *_frame((8, 4), (100, 180), (210, 96))) == [
        0, 2, 1]
    # a track unseen for more than max_missing frames is retired
    tracker = PoseTracker(max_missing=2)
    tracker.update(0, *_frame((0, 0)))
    assert tracker.update(3, *_frame((0, 0))) == [1]


def test_time_alignment_and_person_ranking():
    rec = TrackRecorder(17)
    strong = np.full((1, 17), 0.9, np.float32)
    kps = np.ones((1, 17, 2), np.float32)
    rec.add(0, [0], kps, strong * 0.1)
    rec.add(1, [1], kps * 2, strong)
    rec.add(3, [1, 0], np.concatenate([kps * 3, kps * 4]),
            np.concatenate([strong, strong * 0.1]))
    keypoint, score, kept = rec.to_arrays(5, max_persons=2)
    assert kept == [[1], [0]] and rec.max_in_frame == 2
    assert keypoint.dtype == score.dtype == np.float16
    assert keypoint.shape == (2, 5, 17, 2) and score.shape == (2, 5, 17)
    np.testing.assert_array_equal(keypoint[0, :, 0, 0], [0, 2, 0, 3, 0])
    np.testing.assert_array_equal(keypoint[1, :, 0, 0], [1, 0, 0, 4, 0])
    assert not score[:, 2].any() and not score[:, 4].any()  # frame stays
    assert rec.to_arrays(5, max_persons=1)[2] == [[1]]
    # a track lost and restarted (new id) joins its free slot
    rec.add(4, [2], kps * 5, strong * 0.5)
    keypoint, _, kept = rec.to_arrays(5, max_persons=1)
    assert kept == [[1, 2]]
    np.testing.assert_array_equal(keypoint[0, :, 0, 0], [0, 2, 0, 3, 5])
    with pytest.raises(ValueError, match='frame 2: estimator returned'):
        rec.add(2, [0], np.ones((1, 16, 2)), np.ones((1, 16)))


def test_read_frames_errors(tmp_path):
    with pytest.raises(VideoReadError, match='video not found'):
        list(read_frames(str(tmp_path / 'nope.mp4')))
    bad = tmp_path / 'bad.avi'
    bad.write_bytes(b'not a video')
    with pytest.raises(VideoReadError, match='bad.avi'):
        list(read_frames(str(bad)))


def test_lists_and_configs(tmp_path):
    (tmp_path / 'l.txt').write_text('a/v1.mp4 3\n\n# note\nv2.avi 0\n')
    assert read_video_list(str(tmp_path / 'l.txt')) == [
        (str(tmp_path / 'a' / 'v1.mp4'), 3), (str(tmp_path / 'v2.avi'), 0)]
    (tmp_path / 'm.txt').write_text('v1.mp4 3\nv2.mp4\n')
    with pytest.raises(ValueError, match='every line has a label or none'):
        read_video_list(str(tmp_path / 'm.txt'))
    (tmp_path / 'd.txt').write_text('a/v1.mp4\nb/v1.avi\n')
    with pytest.raises(ValueError, match="share the id .* 'v1'"):
        read_video_list(str(tmp_path / 'd.txt'))
    (tmp_path / 's.txt').write_text('v1 train\nb/v2.mp4 val\nv3 train\n')
    assert read_split_file(str(tmp_path / 's.txt')) == dict(
        train=['v1', 'v3'], val=['v2'])
    (tmp_path / 's.json').write_text(json.dumps(dict(train=['v1'])))
    assert read_split_file(str(tmp_path / 's.json')) == dict(train=['v1'])
    assert resolve_config('a/b.py') == 'a/b.py'
    with pytest.raises(ImportError, match='not installed'):
        resolve_config('surely_not_a_package_xyz::a.py')


def test_bundled_config_names_resolve(tmp_path, monkeypatch):
    pkg = tmp_path / 'fake_openmmlab_pkg'
    (pkg / '.mim' / 'configs' / 'body').mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / '.mim' / 'configs' / 'body' / 'hrnet.py').write_text('x = 1\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve_config('fake_openmmlab_pkg::body/hrnet.py') == str(
        pkg / '.mim' / 'configs' / 'body' / 'hrnet.py')
    with pytest.raises(FileNotFoundError, match='no such config'):
        resolve_config('fake_openmmlab_pkg::body/none.py')


def test_mmpose_adapter_contract(monkeypatch):
    """MMPoseEstimator against stand-ins with MMPose 1.x / MMDetection 3.x
    API shapes (the real path: test_pose_extraction_mmpose.py)."""
    calls = {}

    class Instances(SimpleNamespace):
        def cpu(self):
            return self

        def numpy(self):
            return self

    def init_model(config, checkpoint, device):
        calls['pose'] = (config, checkpoint, device)
        return SimpleNamespace(dataset_meta=dict(num_keypoints=17))

    def inference_topdown(model, frame, bboxes, bbox_format):
        calls['topdown'] = (bboxes.copy(), bbox_format)
        return [SimpleNamespace(pred_instances=SimpleNamespace(
            keypoints=np.full((1, 17, 2), i, np.float64),
            keypoint_scores=np.full((1, 17), 0.5)))
            for i in range(len(bboxes))]

    def init_detector(config, checkpoint, device):
        calls['det'] = (config, checkpoint, device)
        return object()

    def inference_detector(model, frame):
        return SimpleNamespace(pred_instances=Instances(
            bboxes=np.array([[0, 0, 10, 10], [1, 1, 50, 50], [2, 2, 9, 9.]]),
            scores=np.array([0.9, 0.8, 0.7]), labels=np.array([0, 2, 0])))

    fakes = {
        'mmpose': {}, 'mmdet': {},
        'mmpose.apis': dict(init_model=init_model,
                            inference_topdown=inference_topdown),
        'mmdet.apis': dict(init_detector=init_detector,
                           inference_detector=inference_detector)}
    for name, attrs in fakes.items():
        module = ModuleType(name)
        module.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, module)
    est = MMPoseEstimator('pose.py', 'pose.pth', 'det.py', 'http://x/d.pth',
                          device='cuda:1')
    assert calls['pose'] == ('pose.py', 'pose.pth', 'cuda:1')
    assert calls['det'] == ('det.py', 'http://x/d.pth', 'cuda:1')
    frame = np.zeros((8, 8, 3), np.uint8)
    boxes = est.detect(frame)  # persons (label 0) only, with scores
    np.testing.assert_allclose(boxes, [[0, 0, 10, 10, 0.9], [2, 2, 9, 9, 0.7]])
    kps, scores = est.estimate(frame, boxes)
    np.testing.assert_array_equal(calls['topdown'][0], boxes[:, :4])
    assert calls['topdown'][1] == 'xyxy'
    assert kps.shape == (2, 17, 2) and kps.dtype == np.float32
    assert kps[1, 0, 0] == 1 and scores.shape == (2, 17)
    with pytest.raises(ValueError, match='at least one box'):
        est.estimate(frame, np.zeros((0, 5)))
    gt_only = MMPoseEstimator('pose.py', None)
    with pytest.raises(NotImplementedError, match='no person detector'):
        gt_only.detect(frame)


# ----------------------------------------------------------- one video
def test_extract_video_tracks_and_keeps_time(tmp_path):
    path = write_video(tmp_path / 'two.avi')
    anno = extract_video(path, FakeEstimator())
    assert anno['frame_dir'] == 'two' and anno['total_frames'] == 12
    assert anno['img_shape'] == (240, 320) and anno['num_person_raw'] == 2
    kp, score = anno['keypoint'], anno['keypoint_score']
    assert kp.shape == (2, 12, 17, 2) and score.shape == (2, 12, 17)
    assert kp.dtype == score.dtype == np.float16
    for t in range(12):
        if t in BLANK:  # frames without detection stay, zero
            assert not kp[:, t].any() and not score[:, t].any()
            continue
        for person in (0, 1):  # identities kept after the order flips (t>7)
            np.testing.assert_allclose(kp[person, t],
                                       expected_keypoints(person, t),
                                       atol=0.5)
        np.testing.assert_allclose(score[:, t], 0.9, atol=1e-3)


def test_extract_video_with_ground_truth_boxes(tmp_path):
    path = write_video(tmp_path / 'gt.avi', num_frames=8)
    boxes = np.zeros((8, 4))  # person 1 only, no box in frame 2
    for t in set(range(8)) - {2}:
        x, y = 200, 150 - 10 * t
        boxes[t] = [x, y, x + 60, y + 60]
    estimator = FakeEstimator(allow_detect=False)
    anno = extract_video(path, estimator, FrameBoxes(boxes, 'gt: gt'),
                         max_persons=1)
    assert anno['keypoint'].shape == (1, 8, 17, 2) and estimator.frames_seen \
        == 7
    assert not anno['keypoint'][0, 2].any()
    np.testing.assert_allclose(anno['keypoint'][0, 6],
                               expected_keypoints(1, 6), atol=0.5)


# ------------------------------------------------------------ the tool
@pytest.fixture
def videos(tmp_path):
    folder = tmp_path / 'videos'
    folder.mkdir()
    write_video(folder / 'clip_a.avi')
    write_video(folder / 'clip_b.avi', num_frames=6, persons=(1, ),
                blank=())
    write_video(folder / 'clip_c.avi', num_frames=6, persons=(0, ),
                blank=(0, 1, 2))
    write_video(folder / 'nobody.avi', num_frames=4, persons=())
    (tmp_path / 'videos.txt').write_text(
        'videos/clip_a.avi 3\nvideos/clip_b.avi 7\nvideos/clip_c.avi 3\n'
        'videos/nobody.avi 1\n')
    (tmp_path / 'split.txt').write_text(
        'clip_a train\nclip_b train\nnobody train\nclip_c val\n')
    return tmp_path


def test_tool_writes_labels_splits_and_resumes(videos, capsys):
    out = str(videos / 'out' / 'mine_2d.pkl')
    args = [str(videos / 'videos.txt'), out, '--split-file',
            str(videos / 'split.txt'), '--save-every', '1']
    def killing_estimator():  # the run is killed during the third video
        est = FakeEstimator()
        estimate = est.estimate

        def estimate_until_killed(frame, boxes):
            if est.frames_seen == 10 + 6:  # clip_a, clip_b done
                raise KeyboardInterrupt
            return estimate(frame, boxes)

        est.estimate = estimate_until_killed
        return est

    with pytest.raises(KeyboardInterrupt):
        extract_tool.main(args, make_estimator=killing_estimator)
    assert not osp.exists(out) and not leftovers(videos)

    estimators = []
    assert extract_tool.main(args, make_estimator=lambda: estimators.append(
        FakeEstimator()) or estimators[-1]) == 0
    assert estimators[0].frames_seen == 3  # only clip_c and nobody redone
    text = capsys.readouterr().out
    assert '1 video(s) without any person left out: nobody' in text
    data = load(out)
    assert data['split'] == dict(train=['clip_a', 'clip_b'], val=['clip_c'])
    annos = {a['frame_dir']: a for a in data['annotations']}
    assert sorted(annos) == ['clip_a', 'clip_b', 'clip_c']
    assert [annos[k]['label'] for k in sorted(annos)] == [3, 7, 3]
    assert annos['clip_b']['keypoint'].shape == (1, 6, 17, 2)
    assert annos['clip_c']['total_frames'] == 6
    assert not annos['clip_c']['keypoint'][0, :3].any()
    assert check_pkl.main([out, '--num-classes', '99']) == 0
    assert not osp.exists(out + '.partial')

    # unknown ids in the split file are an error naming them
    (videos / 'split.txt').write_text('clip_a train\nclip_x val\n')
    with pytest.raises(ValueError, match=r"split 'val' names 1 .*clip_x"):
        extract_tool.main(args, make_estimator=FakeEstimator)


def test_keep_empty_and_unlabelled_lists(videos, capsys):
    (videos / 'plain.txt').write_text('videos/nobody.avi\n'
                                      'videos/clip_b.avi\n')
    out = str(videos / 'plain.pkl')
    assert extract_tool.main([str(videos / 'plain.txt'), out,
                              '--keep-empty'],
                             make_estimator=FakeEstimator) == 0
    text = capsys.readouterr().out
    assert '(kept)' in text and 'not for training' in text
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert [a['frame_dir'] for a in data['annotations']] == ['nobody',
                                                             'clip_b']
    assert 'label' not in data['annotations'][0]
    assert check_pkl.main([out]) == 1  # missing labels, an empty clip


def test_output_trains_finegym_config(videos, tmp_path):
    out = str(tmp_path / 'mine_2d.pkl')
    assert extract_tool.main([str(videos / 'videos.txt'), out,
                              '--split-file', str(videos / 'split.txt')],
                             make_estimator=FakeEstimator) == 0
    runner, _ = train_one_iter('finegym/ctrgcn_j.py', out,
                               str(tmp_path / 'work'))
    assert len(runner.train_dataloader.dataset) == 2
