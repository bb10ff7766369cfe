"""SkeletonVisualizer draws where the joints are, writes files that open
with the expected frames, and is built from MMAction2's registry."""
import glob
import os.path as osp

import numpy as np
import pytest
from mmaction.registry import VISUALIZERS

from mmskelcl.visualization import (SkeletonVisualizer, layout_of, project,
                                    read_video, tile, write_video)
from mmskelcl.visualization.draw import PERSON_COLORS, weight_colors
from mmskelcl.visualization.skeleton_visualizer import BACKGROUND

_count = [0]


def _vis(**kwargs):
    _count[0] += 1  # mmengine keeps instances by name
    return SkeletonVisualizer(name=f'test_vis_{_count[0]}', **kwargs)


def _coco_clip(T=3, h=120, w=160):
    """Left shoulder (5) at (40, 60) and left elbow (7) at (100, 60) in
    every frame; the other joints unscored (not drawn)."""
    kp = np.zeros((1, T, 17, 2), np.float32)
    score = np.zeros((1, T, 17), np.float32)
    kp[0, :, 5] = (40, 60)
    kp[0, :, 7] = (100, 60)
    score[0, :, [5, 7]] = 1
    return kp, score, (h, w)


def test_bones_are_drawn_between_the_joints_and_labels_above():
    kp, score, shape = _coco_clip()
    frames = _vis(thickness=3, radius=4).render(
        kp, score, shape, texts=['GT: 1 jump', 'Pred: 1 jump (0.90)'])
    assert len(frames) == 3
    strip = frames[0].shape[0] - shape[0]
    assert strip > 0 and frames[0].shape[1] == shape[1]
    canvas, head = frames[1][strip:], frames[1][:strip]
    # the bone (7, 5) of COCO: person 0's colour along y = 60, x in 50..90
    for x in (50, 70, 90):
        assert tuple(canvas[60, x]) == PERSON_COLORS[0], x
    # joints: white discs at the joints
    assert tuple(canvas[60, 40]) == tuple(canvas[60, 100]) == (255, ) * 3
    # nothing where no joint is: the far corner and below the bone
    assert tuple(canvas[100, 70]) == BACKGROUND
    assert tuple(canvas[10, 150]) == BACKGROUND
    # the label strip holds white text pixels; with no text there is none
    assert (head.min(-1) > 200).sum() > 50
    bare = _vis().render(kp, score, shape, frame_counter=False)
    assert bare[0].shape[:2] == shape


def test_unscored_and_missing_joints_are_not_drawn():
    kp, score, shape = _coco_clip(T=1)
    score[0, 0, 7] = 0  # the elbow lost: no bone either
    frame = _vis().render(kp, score, shape, frame_counter=False)[0]
    assert tuple(frame[60, 70]) == BACKGROUND
    assert tuple(frame[60, 100]) == BACKGROUND
    assert tuple(frame[60, 40]) == (255, ) * 3


def test_joint_and_frame_weights_colour_joints_and_the_time_bar():
    kp, score, shape = _coco_clip(T=4)
    jw = np.zeros(17)
    jw[7] = 1.  # elbow: high (red, larger), shoulder low (blue)
    frames = _vis().render(kp, score, shape, joint_weights=jw,
                           frame_weights=np.array([0., 0., 1., 1.]),
                           frame_counter=False)
    f = frames[0]
    hi, lo = f[60, 100].astype(int), f[60, 40].astype(int)
    assert tuple(hi) == tuple(weight_colors(np.array(1.)))
    assert tuple(lo) == tuple(weight_colors(np.array(0.)))
    assert hi[0] > hi[2] and lo[2] > lo[0]  # red vs blue
    # a larger disc at the high-weight joint (radius 4 * (0.6 + 1.2 w))
    assert (f[60, 100 + 6] == hi).all() and not (f[60, 40 + 6] == lo).all()
    bar = f[-1]  # bottom row: first half low (blue), second half high
    assert bar[5, 2] > bar[5, 0] and bar[-5, 0] > bar[-5, 2]


def test_3d_views_by_hand():
    # azimuth 90 about y: x goes into depth, z comes to the right
    assert np.allclose(project([[1., 0, 0], [0, 0, 1]], 90, 0),
                       [[0, 0], [1, 0]])
    # elevation 90 about x: y goes into depth, z points down the image
    assert np.allclose(project([[0., 1, 0], [0, 0, 1]], 0, 90),
                       [[0, 0], [0, 1]])
    assert np.allclose(project([[2., 3, 4]], 0, 0), [[2, -3]])  # front


def test_3d_clip_fills_the_canvas_and_keeps_one_scale():
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(1, 5, 20, 3))
    kp[0, 4] *= 0.1  # a small last frame stays small
    frames = _vis(size=100).render(kp, frame_counter=False)
    assert frames[0].shape == (100, 100, 3)
    drawn = [(np.abs(f.astype(int) - BACKGROUND).sum(-1) > 0)[:-8].sum()
             for f in frames]
    assert drawn[4] < min(drawn[:4]) / 2


def test_layout_from_joint_count_and_errors():
    assert layout_of(20) == 'nwucla' and layout_of(25) == 'nturgb+d'
    assert layout_of(17) == 'coco'
    with pytest.raises(ValueError, match='--layout'):
        layout_of(21)
    with pytest.raises(ValueError, match='joints'):
        layout_of(17, 'nwucla')


@pytest.mark.parametrize('ext', ['.gif', '.mp4'])
def test_files_open_with_the_expected_frames(tmp_path, ext):
    rng = np.random.default_rng(1)
    frames = _vis(size=96).render(rng.normal(size=(2, 7, 25, 3)))
    path = write_video(frames, str(tmp_path / f'clip{ext}'), fps=5)
    back = read_video(path)
    assert len(back) == 7
    assert back[0].shape == frames[0].shape
    assert frames[0].shape[1] == 96 and frames[0].shape[0] > 96
    assert frames[0].shape[0] % 2 == 0  # the label strip keeps it even
    # the content survives encoding (GIF palette, H.264): close on average
    err = np.abs(back[3].astype(int) - frames[3].astype(int)).mean()
    assert err < 8


def test_mp4_pads_odd_sizes_to_even(tmp_path):
    frames = [np.full((5, 7, 3), 200, np.uint8)] * 3
    back = read_video(write_video(frames, str(tmp_path / 'odd.mp4')))
    assert len(back) == 3 and back[0].shape == (6, 8, 3)
    assert abs(int(back[1][2, 3, 0]) - 200) < 10


def test_write_video_errors(tmp_path):
    with pytest.raises(ValueError, match='.gif or an .mp4'):
        write_video([np.zeros((4, 4, 3), np.uint8)], str(tmp_path / 'a.avi'))
    with pytest.raises(ValueError, match='no frame'):
        write_video([], str(tmp_path / 'a.gif'))


def test_grid_tiles_clips_and_holds_short_ones():
    a = [np.full((10, 20, 3), i, np.uint8) for i in range(3)]
    b = [np.full((10, 20, 3), 100 + i, np.uint8) for i in range(2)]
    grid = tile([a, b, a], cols=2)
    assert len(grid) == 3 and grid[0].shape == (20, 40, 3)
    assert grid[2][0, 25, 0] == 101  # b holds its last frame
    assert grid[2][15, 5, 0] == 2 and grid[2][15, 25, 0] == 0  # empty cell
    # a taller clip sets the cell size; the others are padded, not scaled
    tall = [np.full((14, 20, 3), 50, np.uint8)]
    grid = tile([a, tall], cols=2)
    assert grid[0].shape == (14, 40, 3)
    assert grid[0][9, 5, 0] == 0 and grid[0][13, 25, 0] == 50


def test_registry_and_add_datasample_to_backends_and_file(tmp_path):
    import torch
    from mmaction.structures import ActionDataSample
    vis = VISUALIZERS.build(dict(
        type='SkeletonVisualizer', name='test_vis_registry',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'vis'), topk=2))
    assert isinstance(vis, SkeletonVisualizer)
    vis.dataset_meta = dict(classes=['jump', 'turn', 'kick'])
    kp, score, shape = _coco_clip(T=3)
    anno = dict(frame_dir='x', label=1, keypoint=kp, keypoint_score=score,
                img_shape=shape)
    sample = ActionDataSample().set_gt_label(1)
    sample.set_pred_score(torch.tensor([0.2, 0.7, 0.1]))
    frames = vis.add_datasample('clip', anno, sample, step=0)
    saved = sorted(glob.glob(str(tmp_path / 'vis' / '**' / '*.png'),
                             recursive=True))
    assert len(saved) == 3 and osp.basename(saved[0]).startswith('clip_')
    out = str(tmp_path / 'clip.gif')
    vis.add_datasample('clip', anno, sample, out_file=out)
    assert len(read_video(out)) == 3
    # GT, Pred and the two top-k lines, then the frame counter
    lines = frames[0].shape[0] - shape[0]
    bare = vis.add_datasample('clip', anno, sample, draw_pred=False,
                              out_file=str(tmp_path / 'b.gif'))
    assert bare[0].shape[0] - shape[0] < lines


def test_hook_draws_every_interval_th_clip_in_a_runner(tmp_path):
    """A real Runner test loop: 3 val clips, interval 2 -> clips 0 and 2,
    from the dataset's annotation with the model's scores."""
    from mmengine.runner import Runner
    from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)  # 12 clips of 12 frames; val = clips 9, 10, 11
    cfg = tiny_runner_cfg(
        ann, str(tmp_path / 'work'),
        dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
             cls_head=dict(type='GCNHead', num_classes=3, in_channels=8)),
        custom_hooks=[dict(type='SkeletonVisualizationHook', enable=True,
                           interval=2, out_dir='vis')])
    cfg.visualizer = dict(type='SkeletonVisualizer', size=200,
                          name='test_vis_hook')
    runner = Runner.from_cfg(cfg)
    runner.test()
    files = sorted(glob.glob(str(tmp_path / 'work' / 'vis' / '*.gif')))
    assert [osp.basename(f) for f in files] == ['clip09_0.gif',
                                                'clip11_0.gif']
    frames = read_video(files[0])
    assert len(frames) == 12  # the annotation's frames, not the 8 sampled
    assert frames[0].shape[1] == 200  # 1920 px wide image at size 200
    # GT, Pred, top-3 and the counter above the canvas (1080 -> 112 px)
    assert frames[0].shape[0] > 112


def test_hook_needs_the_skeleton_visualizer():
    from mmskelcl.visualization import SkeletonVisualizationHook
    from mmengine.visualization import Visualizer
    Visualizer.get_instance('test_plain_vis')
    with pytest.raises(TypeError, match='SkeletonVisualizer'):
        SkeletonVisualizationHook(enable=True)._visualizer()
