"""Video -> 2D poses -> action label, drawn on the video (MMAction2's
``demo/demo_skeleton.py`` for this project's models).

    python tools/demo/demo_skeleton.py VIDEO OUT.mp4 --config CFG \\
        --checkpoint CKPT [--backend onnx --det-onnx rtmdet.onnx \\
        --pose-onnx rtmpose.onnx | --backend mmpose] \\
        [--window 48 --stride 16] [--label-map names.txt]

Poses come from the same extraction as ``tools/data/extract_2d_skeleton.py``
(RTMDet + RTMPose through onnxruntime or MMDetection/MMPose, PySKL's box
filter, identity tracking, ``--max-persons`` tracks); the config must be a
2D COCO-17 one (FineGym's, the demo's, or one trained on your extracted
pickle). Without ``--window`` the whole video is classified once and the
top-k classes are drawn on every frame. ``--window N --stride S``
classifies windows of N frames every S frames: each frame shows the label
of the window centred nearest to it, and the bar at the bottom is coloured
by that label over time (a long video with several actions). OUT is an
``.mp4`` or ``.gif`` at the video's frame rate (``--fps`` overrides it).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

try:
    import mmskelcl  # noqa: F401
except ImportError:  # not installed: run from a source checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

import numpy as np

from mmskelcl.datasets.pose_extraction import (DET_AREA_THR, DET_SCORE_THR,
                                               MMPoseEstimator,
                                               ONNXPoseEstimator, is_empty,
                                               read_frames)
from mmskelcl.datasets.pose_extraction.estimator import (
    DEFAULT_DET_CHECKPOINT, DEFAULT_DET_CONFIG, DEFAULT_POSE_CHECKPOINT,
    DEFAULT_POSE_CONFIG)
from mmskelcl.datasets.pose_extraction.extract import extract_video
from mmskelcl.visualization import SkeletonVisualizer, label_lines
from mmskelcl.visualization.video import VIDEO_EXTS, write_video


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('video', help='input video')
    p.add_argument('out', help='output .mp4 or .gif')
    p.add_argument('--config', required=True, help='2D COCO-17 config')
    p.add_argument('--checkpoint', help='checkpoint (none: random weights)')
    p.add_argument('--backend', choices=('onnx', 'mmpose'), default='onnx')
    p.add_argument('--pose-onnx', help='RTMPose ONNX file (--backend onnx)')
    p.add_argument('--det-onnx', help='RTMDet ONNX file (--backend onnx)')
    p.add_argument('--pose-config', default=DEFAULT_POSE_CONFIG)
    p.add_argument('--pose-checkpoint', default=DEFAULT_POSE_CHECKPOINT)
    p.add_argument('--det-config', default=DEFAULT_DET_CONFIG)
    p.add_argument('--det-checkpoint', default=DEFAULT_DET_CHECKPOINT)
    p.add_argument('--det-cat-id', type=int, default=0)
    p.add_argument('--det-score-thr', type=float, default=DET_SCORE_THR)
    p.add_argument('--det-area-thr', type=float, default=DET_AREA_THR)
    p.add_argument('--max-persons', type=int, default=2)
    p.add_argument('--window', type=int, help='frames per classified window')
    p.add_argument('--stride', type=int, help='frames between windows '
                   '(default: window // 2)')
    p.add_argument('--label-map', help='class names, one a line')
    p.add_argument('--topk', type=int, default=3)
    p.add_argument('--fps', type=float, help='output frame rate')
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
    if osp.splitext(args.out)[1].lower() not in VIDEO_EXTS:
        p.error(f'{args.out}: the output must end in .mp4 or .gif')
    if args.backend == 'onnx' and not (args.pose_onnx and args.det_onnx):
        p.error('--backend onnx needs --det-onnx and --pose-onnx')
    if args.window is not None and args.window < 1 or (
            args.stride is not None and args.stride < 1):
        p.error('--window and --stride must be positive')
    return args


def build_estimator(args):
    """The pose estimator of ``--backend`` (as extract_2d_skeleton.py)."""
    if args.backend == 'onnx':
        return ONNXPoseEstimator(args.pose_onnx, args.det_onnx,
                                 device=args.device,
                                 det_cat_id=args.det_cat_id)
    return MMPoseEstimator(args.pose_config, args.pose_checkpoint,
                           args.det_config, args.det_checkpoint,
                           device=args.device, det_cat_id=args.det_cat_id)


def windows(num_frames: int, size: int, stride: int) -> List[tuple]:
    """``(start, end)`` windows of ``size`` frames every ``stride`` frames;
    the last one ends at the last frame (one window if the video is
    shorter)."""
    if num_frames <= size:
        return [(0, num_frames)]
    starts = list(range(0, num_frames - size + 1, stride))
    if starts[-1] + size < num_frames:
        starts.append(num_frames - size)
    return [(s, s + size) for s in starts]


def frame_windows(spans: List[tuple], num_frames: int) -> np.ndarray:
    """For each frame, the window whose centre is nearest among those that
    cover it (a tie: the earlier window)."""
    out = np.zeros(num_frames, int)
    for t in range(num_frames):
        cover = [i for i, (s, e) in enumerate(spans) if s <= t < e]
        out[t] = min(cover, key=lambda i: abs((spans[i][0] + spans[i][1] -
                                               1) / 2 - t))
    return out


def _clip(anno: dict, start: int, end: int) -> dict:
    return dict(anno, keypoint=anno['keypoint'][:, start:end],
                keypoint_score=anno['keypoint_score'][:, start:end],
                total_frames=end - start)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmskelcl.apis.inference import (class_names_of, classify_skeleton,
                                         init_recognizer)
    model = init_recognizer(args.config, args.checkpoint, args.device)
    names = class_names_of(model, args.label_map)
    anno = extract_video(args.video, build_estimator(args),
                         det_score_thr=args.det_score_thr,
                         det_area_thr=args.det_area_thr,
                         max_persons=args.max_persons)
    if is_empty(anno):
        raise SystemExit(f'error: {args.video}: nobody was found in any '
                         'frame; nothing to classify')
    T = anno['total_frames']
    vis = SkeletonVisualizer(name=f'demo_skeleton_{id(args)}',
                             layout='coco', topk=args.topk)
    frame_texts, bar = None, None
    if args.window:
        spans = windows(T, args.window, args.stride or
                        max(1, args.window // 2))
        preds = [classify_skeleton(model, _clip(anno, s, e),
                                   class_names=names) for s, e in spans]
        nearest = frame_windows(spans, T)
        frame_texts = []
        for t in range(T):
            i = nearest[t]
            label, name, score = preds[i].topk[0]
            frame_texts.append([f'frames {spans[i][0] + 1}-{spans[i][1]}: '
                                f'{name} ({score:.2f})'])
        k = len(preds[0].scores)
        bar = np.array([preds[i].topk[0][0] for i in nearest]) / max(k - 1, 1)
        texts = [f'{len(spans)} windows of {args.window} frames']
        for i, (s, e) in enumerate(spans):
            print(f'frames {s + 1}-{e}: {preds[i].topk[0][1]} '
                  f'({preds[i].topk[0][2]:.2f})')
    else:
        pred = classify_skeleton(model, anno, class_names=names)
        texts = label_lines(names, None, pred.scores, args.topk)
        print(pred.format())
    frames = [f[..., ::-1] for f in read_frames(args.video)]  # BGR -> RGB
    out = vis.render(anno['keypoint'], anno['keypoint_score'], texts=texts,
                     frame_texts=frame_texts, frame_weights=bar,
                     background=frames)
    import cv2
    cap = cv2.VideoCapture(args.video)
    fps = args.fps or cap.get(cv2.CAP_PROP_FPS) or 25.
    cap.release()
    write_video(out, args.out, fps)
    print(f'wrote {args.out}: {len(out)} frames of '
          f'{out[0].shape[1]}x{out[0].shape[0]} at {fps:g} fps')
    return 0


if __name__ == '__main__':
    sys.exit(main())
