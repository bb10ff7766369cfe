"""Render clips of a skeleton pickle to GIF or MP4, with labels and what the
model looks at.

    python tools/analysis/vis_skeleton.py PKL OUT.gif [--index 0 --index 5]
        [--sample ID] [--class NAME] [--wrong SCORES.pkl] [--split val]
        [--max 4] [--cols 2] [--view 30 15] [--size 360] [--fps 10]
        [--step 2] [--fit]
        [--config CFG --checkpoint CKPT [--weights cam|attention|none]
         [--neighbours K [--bank-split train] [--bank-max 2000]]]

Clips are chosen by ``--sample`` (``frame_dir``), ``--index`` (position in
the pickle), ``--class`` (name or number: the first ``--max`` clips of it)
or ``--wrong`` (the first ``--max`` misclassified clips of a score dump:
``tools/test.py --dump`` (its fused scores), a single-stream dump or an
MMAction2 ``DumpResults`` pickle; its scores label the clips); several clips
make a grid. 2D clips are drawn in their image pixels (``--size`` rescales
the longer side), 3D clips from the view ``--view AZIMUTH ELEVATION``.

With ``--config`` (and ``--checkpoint``) the model's top-k scores are drawn
and, per joint (colour and size) and per frame (the bar at the bottom):
``cam``, the class-activation map of the predicted class (a recognizer with
a GCNHead, any encoder), or ``attention``, SkeAttnCLR's salient mask (its
pretraining config and checkpoint). ``--neighbours K`` shows the first clip
beside the K training clips nearest to it in the model's feature space,
each marked same class or other class with its cosine similarity.
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

from mmskelcl.datasets.class_names import class_names
from mmskelcl.utils.safe_pickle import safe_load
from mmskelcl.visualization import SkeletonVisualizer, label_lines, tile
from mmskelcl.visualization.video import VIDEO_EXTS, write_video


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('pkl', help='skeleton pickle (dataset or annotations)')
    p.add_argument('out', help='output .gif or .mp4')
    p.add_argument('--sample', action='append', default=[],
                   help='frame_dir of a clip (repeatable)')
    p.add_argument('--index', type=int, action='append', default=[],
                   help='position of a clip in the pickle (repeatable)')
    p.add_argument('--class', dest='cls', action='append', default=[],
                   help='class name or number (repeatable)')
    p.add_argument('--wrong', metavar='SCORES',
                   help='score dump: show misclassified clips')
    p.add_argument('--split', help='choose only among this split')
    p.add_argument('--max', type=int, default=4,
                   help='clips taken by --class / --wrong')
    p.add_argument('--cols', type=int, default=None, help='grid columns')
    p.add_argument('--layout', help='joint layout (default: joint count)')
    p.add_argument('--view', type=float, nargs=2, default=(0., 0.),
                   metavar=('AZIMUTH', 'ELEVATION'),
                   help='view of 3D clips in degrees')
    p.add_argument('--size', type=int, default=None,
                   help='canvas side (3D) / longer side (2D)')
    p.add_argument('--fit', action='store_true',
                   help='fit 2D clips to a square canvas (not their image)')
    p.add_argument('--fps', type=float, default=10.)
    p.add_argument('--step', type=int, default=1,
                   help='write every N-th frame (smaller files)')
    p.add_argument('--topk', type=int, default=3)
    p.add_argument('--label-map', help='class names, one a line')
    p.add_argument('--config', help='model config')
    p.add_argument('--checkpoint', help='model checkpoint')
    p.add_argument('--weights', choices=('auto', 'cam', 'attention', 'none'),
                   default='auto', help='per-joint / per-frame weights '
                   '(auto: cam for a recognizer, attention for SkeAttnCLR)')
    p.add_argument('--neighbours', type=int, default=0, metavar='K',
                   help='show the K nearest training clips of the first')
    p.add_argument('--bank-split', default='train',
                   help='split searched by --neighbours')
    p.add_argument('--bank-max', type=int, default=2000,
                   help='clips of the bank split searched')
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
    if osp.splitext(args.out)[1].lower() not in VIDEO_EXTS:
        p.error(f'{args.out}: the output must end in .gif or .mp4')
    if args.neighbours and not args.config:
        p.error('--neighbours needs --config (and --checkpoint)')
    return args


def _in_split(data, name):
    if name is None:
        return None
    split = data.get('split') if isinstance(data, dict) else None
    if not split or name not in split:
        raise SystemExit(f'error: the pickle has no split {name!r} '
                         f'(splits: {sorted(split or {})})')
    return set(split[name])


def select(annos, data, args, classes, dump) -> List[int]:
    """Positions of the clips to draw (see the module doc)."""
    allowed = _in_split(data, args.split)
    ids = [str(a['frame_dir']) for a in annos]
    where = {i: k for k, i in enumerate(ids)}
    chosen = []
    for s in args.sample:
        if s not in where:
            raise SystemExit(f'error: {args.pkl}: no sample {s!r}')
        chosen.append(where[s])
    for i in args.index:
        if not -len(annos) <= i < len(annos):
            raise SystemExit(f'error: {args.pkl}: --index {i} out of range '
                             f'({len(annos)} clips)')
        chosen.append(i % len(annos))
    pool = [k for k in range(len(annos))
            if allowed is None or ids[k] in allowed]
    for cls in args.cls:
        if cls.isdigit():
            label = int(cls)
        elif classes and cls in classes:
            label = classes.index(cls)
        else:
            raise SystemExit(f'error: unknown class {cls!r}; give a '
                             'number or a name of the pickle / --label-map')
        found = [k for k in pool if int(annos[k].get('label', -1)) == label]
        if not found:
            raise SystemExit(f'error: no clip of class {cls!r}')
        chosen += found[:args.max]
    if dump is not None:
        pred = dump.scores.argmax(1)
        wrong = [i for i, p, y in zip(dump.ids, pred, dump.labels) if p != y]
        found = [where[i] for i in wrong if i in where and where[i] in pool]
        if not found:
            raise SystemExit(f'error: {args.wrong}: no misclassified clip '
                             f'of {args.pkl}')
        chosen += found[:args.max]
    return chosen or [pool[0]]


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    data = safe_load(args.pkl)
    from mmskelcl.apis.clips import load_skeleton_samples
    annos = load_skeleton_samples(args.pkl)
    classes = class_names(data.get('classes')) if isinstance(data, dict) \
        else None
    if args.label_map:
        from mmskelcl.analysis.hierarchy import load_label_map
        classes = load_label_map(args.label_map)
    dump = None
    if args.wrong:
        from mmskelcl.analysis.report import load_scores
        dump = load_scores(args.wrong)  # a multi-stream dump: its fusion
    chosen = select(annos, data, args, classes, dump)
    model = None
    if args.config:
        from mmskelcl.apis.inference import init_recognizer
        model = init_recognizer(args.config, args.checkpoint, args.device)
        if classes is None:
            classes = (model.dataset_meta or {}).get('classes')
        k = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
        if classes and k is not None and len(classes) != k:
            raise SystemExit(
                f'error: {len(classes)} class names (pickle / --label-map) '
                f'for a {k}-class model ({args.config}); give the label map '
                'of the model with --label-map')
    if args.neighbours:
        chosen = chosen[:1]
    vis = SkeletonVisualizer(name=f'vis_skeleton_{id(args)}',
                             layout=args.layout, view=args.view,
                             size=args.size or (None if not args.neighbours
                                                else 320),
                             fit_2d=args.fit,
                             fps=args.fps, topk=args.topk)
    clips = []
    for k in chosen:
        texts, weights = describe(annos[k], model, args, classes, dump)
        clips.append(vis.render(annos[k]['keypoint'],
                                annos[k].get('keypoint_score'),
                                annos[k].get('img_shape'), texts=texts,
                                **weights))
    if args.neighbours:
        clips += neighbour_clips(vis, model, annos, data, chosen[0], args,
                                 classes)
    cols = args.cols or min(len(clips), 4)
    frames = clips[0] if len(clips) == 1 else tile(clips, cols)
    frames = frames[::max(1, args.step)]
    write_video(frames, args.out, args.fps)
    print(f'wrote {args.out}: {len(clips)} clip(s), {len(frames)} frames '
          f'of {frames[0].shape[1]}x{frames[0].shape[0]}')
    return 0


def describe(anno, model, args, classes, dump):
    """Text lines and the weights of one clip."""
    gt = int(np.asarray(anno.get('label', -1)).reshape(-1)[0])
    scores = None
    if dump is not None and str(anno['frame_dir']) in dump.ids:
        scores = dump.scores[dump.ids.index(str(anno['frame_dir']))]
    weights = {}
    if model is not None:
        from mmskelcl.visualization import weights as W
        inputs = W.model_inputs(model, [anno])
        is_ssl = hasattr(model, 'neck') and hasattr(model, 'stream')
        kind = args.weights
        if kind == 'auto':
            kind = 'attention' if is_ssl else 'cam'
        if not is_ssl:
            from mmskelcl.apis.inference import classify_skeleton
            scores = classify_skeleton(model, anno).scores
        T = int(np.shape(anno['keypoint'])[1])
        if kind == 'cam':
            cam, _ = W.class_activation(model, inputs)
            k = int(np.argmax(scores))
            w = cam[0, :, k].mean((0, 1)).numpy()  # (T', V)
        elif kind == 'attention':
            w = W.attention_weights(model, inputs)[0].numpy()
        if kind != 'none':
            from mmskelcl.visualization.draw import normalise_weights
            joint, frame = W.to_clip_weights(w, T)
            if w.shape[1] == np.shape(anno['keypoint'])[2]:
                weights['joint_weights'] = normalise_weights(joint)
            weights['frame_weights'] = normalise_weights(frame)
    texts = [str(anno['frame_dir'])] + label_lines(classes, gt, scores,
                                                   args.topk)
    return texts, weights


def neighbour_clips(vis, model, annos, data, query, args, classes):
    """The K bank clips nearest to ``annos[query]``, rendered."""
    import torch

    from mmskelcl.visualization import weights as W
    allowed = _in_split(data, args.bank_split) if isinstance(
        data, dict) and data.get('split') else None
    bank = [k for k in range(len(annos)) if k != query and (
        allowed is None or str(annos[k]['frame_dir']) in allowed)]
    bank = bank[:args.bank_max]
    feats = []
    for i in range(0, len(bank), 16):
        feats.append(W.clip_features(
            model, W.model_inputs(model, [annos[k] for k in bank[i:i + 16]])))
    q = W.clip_features(model, W.model_inputs(model, [annos[query]]))[0]
    rows, sims = W.nearest(q, torch.cat(feats), args.neighbours)
    gt = int(annos[query].get('label', -1))
    out = []
    for rank, (r, s) in enumerate(zip(rows, sims), 1):
        a = annos[bank[r]]
        same = int(a.get('label', -1)) == gt
        texts = [f'#{rank} {"same" if same else "other"} class, '
                 f'cos {s:.2f}', str(a['frame_dir'])] + label_lines(
                     classes, int(a.get('label', -1)))
        out.append(vis.render(a['keypoint'], a.get('keypoint_score'),
                              a.get('img_shape'), texts=texts))
    return out


if __name__ == '__main__':
    sys.exit(main())
