"""Classify skeleton clips with a trained model.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--sample ID ...]
        [--index N ...] [--all] [--topk 5] [--label-map FILE]

INPUT is a skeleton pickle (a dataset file, a list of annotations or one
annotation dict; pick clips with ``--sample FRAME_DIR`` or ``--index N``,
default the first), a ``.npy`` array ``(M, T, V, C)`` (``--img-shape H W``
for 2D pixel coordinates; for 2D configs C = 3 is x, y, score), or a
video, whose 2D skeletons are extracted first with
:mod:`mmskelcl.datasets.pose_extraction` (needs the optional ``pose``
extra; ``--det-config --det-checkpoint --pose-config --pose-checkpoint``
override its Faster R-CNN + HRNet-w32 defaults).
The clip goes through the config's test pipeline; the checkpoint may come
from a config with training-only heads (CACL, FR-Head, ...). Class names
come from ``--label-map`` (one per line, or FineGym's
gym99_categories.txt), else the checkpoint's dataset metainfo.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

try:
    import mmskelcl  # noqa: F401
except ImportError:  # not installed: run from a source checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np
from mmengine.config import DictAction

from mmskelcl.apis import (build_test_pipeline, class_names_of,
                           classify_skeleton, init_recognizer,
                           load_skeleton_samples)

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description='Classify skeleton clips (pickle, .npy or video)',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file (its test pipeline and '
                   'model)')
    p.add_argument('checkpoint', help='checkpoint trained with this config '
                   'or its training-only variant (CACL, FR-Head, ...)')
    p.add_argument('input', help='.pkl, .npy or video file')
    p.add_argument('--sample', nargs='+', default=[], metavar='FRAME_DIR',
                   help='clips of a pickle, by id')
    p.add_argument('--index', nargs='+', type=int, default=[],
                   help='clips of a pickle, by position')
    p.add_argument('--all', action='store_true',
                   help='every clip of the pickle, then the top-1 accuracy')
    p.add_argument('--topk', type=int, default=5,
                   help='how many classes to print per clip (default: 5)')
    p.add_argument('--label-map', help='class names file, one per line '
                   '(default: the names stored in the checkpoint)')
    p.add_argument('--img-shape', nargs=2, type=int, metavar=('H', 'W'),
                   help='image size of 2D keypoints of a .npy input')
    p.add_argument('--device', default='cpu',
                   help='torch device (default: cpu)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides, key=value')
    for name, what in (('det-config', 'MMDetection person detector config'),
                       ('det-checkpoint', 'MMDetection detector weights'),
                       ('pose-config', 'MMPose 2D pose model config'),
                       ('pose-checkpoint', 'MMPose pose model weights')):
        p.add_argument(f'--{name}', help=f'video input: {what} (default: '
                       'Faster R-CNN + HRNet-w32 of pose extraction)')
    return p.parse_args(argv)


def _select(samples: list, args: argparse.Namespace) -> list:
    if args.all:
        return samples
    by_id = {str(s.get('frame_dir')): s for s in samples}
    missing = [i for i in args.sample if i not in by_id]
    if missing:
        raise SystemExit(f'error: no clip with frame_dir {missing[:3]} in '
                         f'{args.input}')
    bad = [i for i in args.index if not -len(samples) <= i < len(samples)]
    if bad:
        raise SystemExit(f'error: index {bad} out of range for '
                         f'{len(samples)} clips')
    chosen = [by_id[i] for i in args.sample] + [samples[i]
                                                for i in args.index]
    return chosen or samples[:1]


def _video_sample(args: argparse.Namespace) -> dict:
    """Extract the 2D skeletons of a video (the optional ``pose`` extra)."""
    from mmskelcl.datasets.pose_extraction import (MMPoseEstimator,
                                                   extract_video)
    from mmskelcl.datasets.pose_extraction import estimator as est
    try:
        estimator = MMPoseEstimator(
            args.pose_config or est.DEFAULT_POSE_CONFIG,
            args.pose_checkpoint or est.DEFAULT_POSE_CHECKPOINT,
            args.det_config or est.DEFAULT_DET_CONFIG,
            args.det_checkpoint or est.DEFAULT_DET_CHECKPOINT,
            device=args.device)
    except ImportError as err:
        raise SystemExit(f'error: video input needs pose extraction: {err}')
    return extract_video(args.input, estimator)


def _inputs(args: argparse.Namespace) -> list:
    path = args.input
    if not osp.isfile(path):
        raise SystemExit(f'error: {path} does not exist')
    if path.lower().endswith(VIDEO_SUFFIXES):
        return [_video_sample(args)]
    if path.endswith('.npy'):
        return [np.load(path)]
    return _select(load_skeleton_samples(path), args)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    clips = _inputs(args)
    model = init_recognizer(args.config, args.checkpoint, args.device,
                            args.cfg_options)
    names = class_names_of(model, args.label_map)
    pipeline = build_test_pipeline(model.cfg)
    correct = labelled = 0
    for clip in clips:
        try:
            pred = classify_skeleton(model, clip, img_shape=args.img_shape,
                                     topk=args.topk, class_names=names,
                                     test_pipeline=pipeline)
        except ValueError as err:
            raise SystemExit(f'error: {args.input}: {err}')
        print(pred.format(names), flush=True)
        if pred.gt_label is not None:
            labelled += 1
            correct += int(pred.pred_label == pred.gt_label)
    if labelled > 1:
        print(f'top-1: {correct}/{labelled} = '
              f'{100 * correct / labelled:.2f}%')


if __name__ == '__main__':
    main()
