"""tools/analysis/vis_skeleton.py on a small 2D pickle: which clips it
chooses (--sample, --index, --class, --wrong), the grid it writes, and the
model route (scores, class-activation weights, nearest training clips)."""
import pickle

import numpy as np
import pytest
from tool_helpers import load_tool

from mmskelcl.visualization import read_video

TOOL = load_tool('analysis/vis_skeleton.py')
CLASSES = [f'move{i}' for i in range(8)]  # the demo config's 8 classes
LENGTHS = (5, 6, 7, 8, 9, 10)


def _pickle(tmp_path):
    rng = np.random.default_rng(0)
    annos = []
    for i, T in enumerate(LENGTHS):
        kp = rng.uniform(20, 100, size=(1, T, 17, 2)).astype(np.float32)
        annos.append(dict(frame_dir=f'clip{i}', label=i % 2,
                          total_frames=T, img_shape=(120, 160),
                          original_shape=(120, 160), keypoint=kp,
                          keypoint_score=np.ones((1, T, 17), np.float32)))
    data = dict(split=dict(train=['clip0', 'clip1', 'clip2', 'clip3'],
                           val=['clip4', 'clip5']),
                annotations=annos, classes=CLASSES)
    path = tmp_path / 'mini.pkl'
    path.write_bytes(pickle.dumps(data))
    return str(path)


def _run(argv, capsys):
    assert TOOL.main(argv) == 0
    return capsys.readouterr().out


def test_one_clip_by_sample_and_a_grid_by_class(tmp_path, capsys):
    pkl = _pickle(tmp_path)
    out = str(tmp_path / 'one.gif')
    _run([pkl, out, '--sample', 'clip2'], capsys)
    frames = read_video(out)
    assert len(frames) == LENGTHS[2] and frames[0].shape[1] == 160
    # class 1 = clips 1, 3, 5; in the val split only clip 5
    out = str(tmp_path / 'grid.mp4')
    text = _run([pkl, out, '--class', 'move1', '--max', '2', '--cols', '2'],
                capsys)
    frames = read_video(out)
    assert '2 clip(s)' in text
    assert len(frames) == max(LENGTHS[1], LENGTHS[3])
    assert frames[0].shape[1] == 2 * 160
    _run([pkl, out, '--class', '1', '--split', 'val'], capsys)
    assert len(read_video(out)) == LENGTHS[5]
    # two classes, one clip each (clips 0 and 1), every second frame
    _run([pkl, out, '--class', 'move0', '--class', '1', '--max', '1',
          '--step', '2'], capsys)
    frames = read_video(out)
    assert len(frames) == 3 and frames[0].shape[1] == 2 * 160  # 6 frames


def test_wrong_clips_of_a_score_dump(tmp_path, capsys):
    pkl = _pickle(tmp_path)
    scores = np.full((3, 8), 0.01)
    scores[0, 0] = scores[1, 0] = scores[2, 1] = 0.9  # clip3 (label 1) wrong
    dump = tmp_path / 'scores.pkl'
    dump.write_bytes(pickle.dumps(dict(
        ids=['clip0', 'clip3', 'clip5'], scores=scores,
        labels=np.array([0, 1, 1]), stream='j')))
    out = str(tmp_path / 'wrong.gif')
    text = _run([pkl, out, '--wrong', str(dump)], capsys)
    assert '1 clip(s)' in text and len(read_video(out)) == LENGTHS[3]


def test_bad_choices_are_errors(tmp_path):
    pkl = _pickle(tmp_path)
    out = str(tmp_path / 'x.gif')
    for argv, what in ((['--sample', 'nope'], 'no sample'),
                       (['--index', '9'], 'out of range'),
                       (['--class', 'fly'], 'unknown class'),
                       (['--split', 'test'], 'no split')):
        with pytest.raises(SystemExit, match=what):
            TOOL.main([pkl, out] + argv)
    with pytest.raises(SystemExit):
        TOOL.main([pkl, str(tmp_path / 'x.avi')])


@pytest.mark.slow
def test_model_scores_cam_and_neighbours(tmp_path, capsys):
    pkl = _pickle(tmp_path)
    out = str(tmp_path / 'nn.gif')
    text = _run([pkl, out, '--index', '4', '--config',
                 'configs/demo/ctrgcn_j.py', '--neighbours', '2'], capsys)
    frames = read_video(out)
    # the query and its 2 nearest training clips, 320 px wide each
    assert '3 clip(s)' in text and frames[0].shape[1] == 3 * 320
    assert len(frames) == max(LENGTHS[4], *LENGTHS[:4])
    # the time bar of the query carries the class-activation weights:
    # coloured (JET), not the plain grey bar of the neighbours
    bar = frames[0][-2].astype(int)
    spread = bar.max(-1) - bar.min(-1)
    assert spread[:300].max() > 100 and spread[700:].max() < 40
