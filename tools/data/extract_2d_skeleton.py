"""Extract 2D COCO-17 skeletons from videos (PySKL's recipe, with tracking).

    python tools/data/extract_2d_skeleton.py videos.txt data/mine/2d.pkl \\
        --split-file splits.txt --device cuda:0
    python tools/data/extract_2d_skeleton.py gym_videos.txt gym_2d_raw.pkl \\
        --gt-boxes gym_gt_bboxes.pkl --max-persons 1       # no detector
    python tools/data/extract_2d_skeleton.py videos.txt data/mine/2d.pkl \\
        --backend onnx --det-onnx rtmdet-m.onnx --pose-onnx rtmpose-m.onnx

``videos.txt``: lines ``VIDEO_PATH [LABEL]``; the sample id is the base name.
``--split-file``: lines ``VIDEO_ID SPLIT`` or a json dict split -> ids.
Backends: ``mmpose`` (default; the optional ``pose`` extra, README "Pose
extraction (optional)"; config paths or ``mmpose::``/``mmdet::`` bundled
configs, checkpoint paths or URLs fetched by MMEngine) or ``onnx`` (RTMDet +
RTMPose ONNX files through onnxruntime, the ``pose-onnx`` extra). Both give
the same pickle. A killed run resumes from ``OUT.pkl.partial/``.
"""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.datasets.converters.report import describe  # noqa: E402
from mmskelcl.datasets.pose_extraction import (  # noqa: E402
    DET_AREA_THR, DET_SCORE_THR, MMPoseEstimator, ONNXPoseEstimator,
    extract_videos, read_split_file, read_video_list)
from mmskelcl.datasets.pose_extraction.estimator import (  # noqa: E402
    DEFAULT_DET_CHECKPOINT, DEFAULT_DET_CONFIG, DEFAULT_POSE_CHECKPOINT,
    DEFAULT_POSE_CONFIG)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('video_list', help='lines "VIDEO_PATH [LABEL]"')
    p.add_argument('out_file', help='output pickle')
    p.add_argument('--split-file', help='lines "VIDEO_ID SPLIT" or json')
    p.add_argument('--gt-boxes', help='ground-truth person boxes (pkl/json '
                   'dict video_id -> boxes); replaces the detector')
    p.add_argument('--backend', choices=('mmpose', 'onnx'), default='mmpose',
                   help='mmpose: MMDetection + MMPose models; onnx: RTMDet + '
                   'RTMPose ONNX files through onnxruntime')
    p.add_argument('--pose-onnx', help='RTMPose ONNX file (--backend onnx)')
    p.add_argument('--det-onnx', help='RTMDet ONNX file with NMS (--backend '
                   'onnx; not needed with --gt-boxes)')
    p.add_argument('--pose-config', default=DEFAULT_POSE_CONFIG)
    p.add_argument('--pose-checkpoint', default=DEFAULT_POSE_CHECKPOINT)
    p.add_argument('--det-config', default=DEFAULT_DET_CONFIG)
    p.add_argument('--det-checkpoint', default=DEFAULT_DET_CHECKPOINT)
    p.add_argument('--det-cat-id', type=int, default=0,
                   help='person class id of the detector')
    p.add_argument('--det-score-thr', type=float, default=DET_SCORE_THR)
    p.add_argument('--det-area-thr', type=float, default=DET_AREA_THR)
    p.add_argument('--max-persons', type=int, default=2,
                   help='tracks kept per video (most confident first)')
    p.add_argument('--device', default='cpu', help='e.g. cuda:0')
    p.add_argument('--keep-empty', action='store_true',
                   help='keep videos in which nobody was found')
    p.add_argument('--no-resume', action='store_true',
                   help='ignore a partial cache of an earlier run')
    p.add_argument('--save-every', type=int, default=10,
                   help='add a chunk to the partial cache every N videos')
    args = p.parse_args(argv)
    if args.backend == 'onnx' and (not args.pose_onnx or not (
            args.det_onnx or args.gt_boxes)):
        p.error('--backend onnx needs --pose-onnx and either --det-onnx or '
                '--gt-boxes')
    return args


def build_estimator(args: argparse.Namespace):
    """The estimator of ``args.backend`` (no detector with --gt-boxes)."""
    if args.backend == 'onnx':
        return ONNXPoseEstimator(
            args.pose_onnx, None if args.gt_boxes else args.det_onnx,
            device=args.device, det_cat_id=args.det_cat_id)
    return MMPoseEstimator(
        args.pose_config, args.pose_checkpoint,
        None if args.gt_boxes else args.det_config, args.det_checkpoint,
        device=args.device, det_cat_id=args.det_cat_id)


def model_names(args: argparse.Namespace) -> tuple:
    """The backend and its model files (what makes a resume cache valid)."""
    if args.backend == 'onnx':
        models = (args.pose_onnx, None if args.gt_boxes else args.det_onnx)
        return ('onnx', ) + tuple(m and osp.abspath(m) for m in models)
    det = () if args.gt_boxes else (args.det_config, args.det_checkpoint)
    return ('mmpose', args.pose_config, args.pose_checkpoint) + det


def main(argv=None, make_estimator=None) -> int:
    """Run the tool; ``make_estimator`` replaces the backend's estimator
    (tests)."""
    args = parse_args(argv)
    videos = read_video_list(args.video_list)
    split = read_split_file(args.split_file) if args.split_file else None
    if make_estimator is None:
        def make_estimator():
            return build_estimator(args)

    start = time.time()
    data, empty = extract_videos(
        videos, args.out_file, make_estimator, gt_box_file=args.gt_boxes,
        split=split, det_score_thr=args.det_score_thr,
        det_area_thr=args.det_area_thr, max_persons=args.max_persons,
        keep_empty=args.keep_empty, resume=not args.no_resume,
        save_every=args.save_every, models=model_names(args))
    print(f'extracted {len(videos)} video(s) in {time.time() - start:.1f} s')
    if empty:
        print(f'{len(empty)} video(s) without any person'
              f'{" (kept)" if args.keep_empty else " left out"}: '
              f'{", ".join(empty[:10])}{" ..." if len(empty) > 10 else ""}')
    labelled = all(label is not None for _, label in videos)
    lines, ok = describe(data, args.out_file)
    print('\n'.join(lines))
    if not labelled:
        print('note: the video list has no labels; the pickle can be used '
              'for inference, not for training')
    return 0 if ok or not labelled or args.keep_empty else 1


if __name__ == '__main__':
    sys.exit(main())
