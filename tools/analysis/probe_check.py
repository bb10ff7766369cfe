"""Is a linear probe limited by the frozen features or by the probe?

    python tools/analysis/probe_check.py CONFIG CHECKPOINT
        [--inverse-reg 0.01 0.1 1] [--cfg-options KEY=VALUE ...]

Reads the pooled features (the classifier's input) of the config's
training split and of its test split for the checkpoint, prints their
scale (mean norm, the norm of the mean feature that every sample shares,
and the per-channel spread across samples) and the top-1 of a reference
probe: a logistic regression on the features standardised with the
training split's statistics, for each regularisation given (all are
reported; none is chosen on the test split). A probe far below the
reference diverged or was badly conditioned rather than limited by the
features (docs/skeattnclr.md, "The probe and the features' scale").
Needs scikit-learn (``pip install "mmskelcl[analysis]"``).
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

from mmskelcl.analysis.probe_check import (feature_scale, split_features,
                                           standardised_probe)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description='feature scale and a standardised reference probe',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--inverse-reg', type=float, nargs='+',
                   default=[0.01, 0.1, 1.0],
                   help="scikit-learn's C of the logistic regression")
    p.add_argument('--device', default='cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides, key=value')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Entry point; returns the figures it printed."""
    args = parse_args(argv)
    feats = split_features(args.config, args.checkpoint, args.device,
                           args.cfg_options)
    (tr_x, tr_y), (te_x, te_y) = feats['train'], feats['test']
    out = dict(scale={})
    for name, x in (('train', tr_x), ('test', te_x)):
        s = out['scale'][name] = feature_scale(x)
        print(f'{name}: {x.shape[0]} clips, {x.shape[1]}-d; mean norm '
              f'{s["norm"]:.4g}, shared offset norm {s["offset_norm"]:.4g}, '
              f'per channel |mean| {s["channel_mean"]:.4g}, sd across '
              f'clips {s["channel_sd"]:.4g}')
    out['probe'] = standardised_probe(tr_x, tr_y, te_x, te_y,
                                      args.inverse_reg)
    for c, (train_acc, test_acc) in out['probe'].items():
        print(f'standardised logistic regression C={c:g}: train top-1 '
              f'{train_acc:.2f}, test top-1 {test_acc:.2f}')
    return out


if __name__ == '__main__':
    main()
