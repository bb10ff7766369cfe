"""tools/demo/demo_skeleton.py end to end: a generated video, the tiny ONNX
RTMDet / RTMPose of the pose tests, the demo CTR-GCN from a checkpoint;
the skeleton and labels drawn on the video's own frames."""
import numpy as np
import pytest
import torch
from data_tools._helpers import VIDEO_SHAPE, square_top_left
from data_tools._helpers import write_video as write_test_video
from data_tools._onnx_models import make_rtmdet, make_rtmpose
from tool_helpers import load_tool

from mmskelcl.visualization import read_video

TOOL = load_tool('demo/demo_skeleton.py')
CLASSES = [f'move{i}' for i in range(8)]


def test_windows_cover_the_video():
    assert TOOL.windows(12, 6, 3) == [(0, 6), (3, 9), (6, 12)]
    assert TOOL.windows(11, 6, 4) == [(0, 6), (4, 10), (5, 11)]
    assert TOOL.windows(4, 6, 3) == [(0, 4)]
    spans = TOOL.windows(12, 6, 3)
    # nearest centre among covering windows (centres 2.5, 5.5, 8.5);
    # frames 4 and 7 are as far from two centres: the earlier window
    assert list(TOOL.frame_windows(spans, 12)) == [0, 0, 0, 0, 0, 1, 1, 1,
                                                   2, 2, 2, 2]


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    from mmskelcl.apis import init_recognizer
    root = tmp_path_factory.mktemp('demo')
    video = write_test_video(root / 'v.avi', num_frames=12, persons=(0, ),
                             blank=())
    model = init_recognizer('configs/demo/ctrgcn_j.py')
    ckpt = str(root / 'ckpt.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), ckpt)
    onnx = ['--backend', 'onnx', '--det-onnx', make_rtmdet(root / 'det.onnx'),
            '--pose-onnx', make_rtmpose(root / 'pose.onnx')]
    return root, video, ['--config', 'configs/demo/ctrgcn_j.py',
                         '--checkpoint', ckpt] + onnx


@pytest.mark.slow
def test_sliding_windows_on_a_generated_video(inputs, capsys):
    root, video, args = inputs
    out = str(root / 'out.mp4')
    assert TOOL.main([video, out, '--window', '6', '--stride', '3'] +
                     args) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if ln.startswith('frames ')]
    assert [ln.split(':')[0] for ln in lines] == [
        'frames 1-6', 'frames 4-9', 'frames 7-12']
    assert all(any(c in ln for c in CLASSES) for ln in lines)  # from meta
    frames = read_video(out)
    assert len(frames) == 12 and frames[0].shape == VIDEO_SHAPE + (3, )
    # the skeleton on the video: the tiny pose model puts keypoints 0-8 at
    # the square's top-left and 9-16 at its bottom-right, so bones cross
    # the white square in person 0's orange (255, 160, 40)
    for t in (0, 11):
        x, y = square_top_left(0, t)
        square = frames[t][y + 2:y + 58, x + 2:x + 58].astype(int)
        orange = ((square[..., 0] > 200) & (square[..., 2] < 120) &
                  (square[..., 1] > 100) & (square[..., 1] < 210))
        assert orange.sum() > 20, t
    # the label bar at the bottom: coloured by the window labels
    bar = frames[5][-3].astype(int)
    assert (bar.max(-1) - bar.min(-1)).mean() > 60


@pytest.mark.slow
def test_whole_video_classified_once(inputs, capsys):
    root, video, args = inputs
    out = str(root / 'once.gif')
    assert TOOL.main([video, out] + args) == 0
    text = capsys.readouterr().out
    assert not any(ln.startswith('frames ') for ln in text.splitlines())
    assert len(read_video(out)) == 12


def test_missing_pose_models_are_an_error(tmp_path):
    with pytest.raises(SystemExit):
        TOOL.parse_args(['v.mp4', 'o.mp4', '--config', 'c.py'])
    with pytest.raises(SystemExit):
        TOOL.parse_args(['v.mp4', 'o.avi', '--config', 'c.py',
                         '--backend', 'mmpose'])
