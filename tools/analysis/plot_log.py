"""Loss and accuracy curves of one or more runs from mmengine's JSON logs.

    python tools/analysis/plot_log.py WORK_DIR_OR_JSON [...] [--out
        curves.png] [--keys loss_cls loss_contrast acc/top1]
        [--legend BASELINE CACL] [--by-iter]

Each argument is a work dir (every ``<timestamp>/vis_data/<timestamp>.json``
under it, in time order, so resumed runs join up) or one JSON log. One
panel per key, one colour per run: ``loss``, ``loss_cls``, each auxiliary
loss (``loss_contrast``, ``loss_cfr``, ...) and the validation accuracies
(``acc/top1``, ``acc/mean1``, ...) by default.
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

from mmskelcl.analysis.logs import default_keys, load_run, plot_runs


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description='Training curves from mmengine JSON logs',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('logs', nargs='+', help='work dirs or JSON log files')
    p.add_argument('--out', default='curves.png', help='output PNG')
    p.add_argument('--keys', nargs='+', help='keys to plot (default: every '
                   'loss and acc/ key)')
    p.add_argument('--legend', nargs='+', help='one name per run')
    p.add_argument('--by-iter', action='store_true',
                   help='x axis in iterations instead of epochs')
    p.add_argument('--cols', type=int, default=2, help='panels per row')
    args = p.parse_args(argv)
    if args.legend and len(args.legend) != len(args.logs):
        p.error('give one legend name per run')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    names = args.legend or [None] * len(args.logs)
    runs = [load_run(path, name) for path, name in zip(args.logs, names)]
    keys = args.keys or default_keys(runs)
    path = plot_runs(runs, args.out, keys, by_epoch=not args.by_iter,
                     cols=args.cols)
    print(f'{len(runs)} runs, keys {", ".join(keys)}\nwritten: {path}')


if __name__ == '__main__':
    main()
