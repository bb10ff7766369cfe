"""t-SNE of the pooled features of an evaluation split, coloured by class.

    python tools/analysis/tsne.py CONFIG CHECKPOINT [CONFIG2 CHECKPOINT2]
        [--out tsne.png] [--split test] [--max-samples 2000]
        [--titles BASELINE METHOD] [--label-map FILE]

One panel per config/checkpoint pair (two pairs give the baseline-against-
method figure, as CACL's Fig. 3). The feature of a sample is the input of
the classifier (backbone output pooled over time, joints, persons and test
clips); each panel is its own t-SNE (scikit-learn, standardised features).
``--feature csre.spatial`` (or ``csre.temporal``, ``csre.global``) plots a
training-only head's feature instead (CSRE's s and t, Fig. 6): give the
CSRE training config and its checkpoint (see
:mod:`mmskelcl.analysis.head_features`).
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

from mmengine.config import DictAction

from mmskelcl.analysis.features import checkpoint_features, run_tsne
from mmskelcl.analysis.head_features import checkpoint_head_features
from mmskelcl.analysis.plots import plot_embeddings
from mmskelcl.apis.inference import class_names_of


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description='t-SNE of pooled features, one panel per checkpoint',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('pairs', nargs='+', metavar='CONFIG CHECKPOINT',
                   help='one or two config/checkpoint pairs')
    p.add_argument('--out', default='tsne.png', help='output PNG')
    p.add_argument('--split', choices=['test', 'val'], default='test',
                   help='which dataloader of the config')
    p.add_argument('--max-samples', type=int, default=2000,
                   help='use the first N samples of the split')
    p.add_argument('--perplexity', type=float, default=30.0)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--feature', default='pooled',
                   help="'pooled' (classifier input) or an auxiliary "
                   "head's feature <head>.<branch>, e.g. csre.spatial, "
                   'csre.temporal (needs the training config)')
    p.add_argument('--titles', nargs='+', help='one title per panel')
    p.add_argument('--label-map', help='class names, one per line')
    p.add_argument('--device', default='cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides (every config), key=value')
    args = p.parse_args(argv)
    if len(args.pairs) % 2 or len(args.pairs) > 4:
        p.error('give one or two CONFIG CHECKPOINT pairs')
    if args.titles and len(args.titles) != len(args.pairs) // 2:
        p.error('give one title per CONFIG CHECKPOINT pair')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    panels, names, k = [], None, None
    for i in range(0, len(args.pairs), 2):
        config, ckpt = args.pairs[i:i + 2]
        if args.feature == 'pooled':
            feats, labels, _, model = checkpoint_features(
                config, ckpt, args.split, args.max_samples, args.device,
                args.cfg_options)
        else:
            feats, labels, _, model = checkpoint_head_features(
                config, ckpt, args.feature, args.split, args.max_samples,
                args.device, args.cfg_options)
        xy = run_tsne(feats, args.perplexity, args.seed)
        title = args.titles[i // 2] if args.titles else \
            osp.splitext(osp.basename(ckpt))[0]
        title = (f'{title} ({osp.splitext(osp.basename(config))[0]}, '
                 f'{len(labels)} samples)') if not args.titles else title
        panels.append((title, xy, labels))
        names = names or class_names_of(model, args.label_map)
        k = k or model.cls_head.num_classes
        print(f'{config}: {feats.shape[0]} samples, {feats.shape[1]}-d '
              'features', flush=True)
    print(f'written: {plot_embeddings(panels, args.out, names, k)}')


if __name__ == '__main__':
    main()
