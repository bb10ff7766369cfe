"""Test one or several skeleton streams and fuse their scores.

Single stream (as MMAction2's ``tools/test.py``)::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump FILE]

Several streams, tested one after the other and fused by sample id::

    python tools/test.py CFG_J CKPT_J CFG_B CKPT_B CFG_JM CKPT_JM \\
        CFG_BM CKPT_BM --weights ctrgcn --dump fused.pkl

Fuse score files written earlier (this tool's dumps or MMAction2
``DumpResults`` pickles with ``frame_dir``), without running a model::

    python tools/test.py --fuse j.pkl b.pkl --weights 1 1

``--weights`` takes one number per stream or a preset name
(``mmskelcl.evaluation.WEIGHT_PRESETS``: ctrgcn, pyskl, frhead_*, csre_*;
stream order joint, bone, joint-motion, bone-motion; ``csre_ntu_2s`` /
``csre_nwucla_2s`` fuse joint + bone); default: equal weights.
Put the options after the positional config/checkpoint pairs.

Before any stream runs, every config, annotation file and checkpoint is
checked; a checkpoint that leaves model weights unset (another model) or
was trained on another stream than its config's (``--allow-stream-mismatch``
overrides) is refused with one line per problem and exit status 1.

Own data: ``--ann-file PATH --num-classes K`` point every loader at PATH and
set K on the datasets, the head and every auxiliary head.

``--per-class`` adds a table of the top-1 accuracy per class (a column per
stream and the fusion) with the class names stored in the test pickle or
the checkpoint (``--label-map FILE`` overrides them).

Outputs, as ``tools/train.py`` and MMAction2's ``test.py``: logs go to
``--work-dir`` (default ``work_dirs/<config folder>/<config name>``; with
several streams ``WORK_DIR/<stream>``); score pickles are written only with
``--dump`` (then also ``<work dir>/<stream>_results.pkl`` per stream).
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

if __name__ == '__main__':  # tcmalloc before torch loads (MMSKELCL_ALLOCATOR)
    import _preload  # noqa: F401  (tools/_preload.py)
try:
    import mmskelcl  # noqa: F401  (applies the stack fixes, registers)
except ImportError:  # not installed: run from a source checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import mmskelcl  # noqa: F401

from mmengine.config import DictAction

from mmskelcl.apis.test_streams import evaluate_streams
from mmskelcl.utils.cli import DefaultsHelpFormatter
from mmskelcl.utils.preflight import PreflightError
from mmskelcl.evaluation.fusion import (WEIGHT_PRESETS, format_report,
                                        fuse_score_files, resolve_weights,
                                        save_fusion)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Test skeleton recognisers stream by stream and fuse '
        'their scores by sample id',
        formatter_class=DefaultsHelpFormatter,
        epilog='weight presets (joint, bone, joint-motion, bone-motion): ' +
        '; '.join(f'{k}={list(v)}' for k, v in WEIGHT_PRESETS.items()))
    parser.add_argument(
        'pairs',
        nargs='*',
        metavar='CONFIG CHECKPOINT',
        help='one or more config/checkpoint pairs, one pair per stream')
    parser.add_argument(
        '--fuse',
        nargs='+',
        metavar='SCORES.pkl',
        help='fuse these score files instead of running models')
    parser.add_argument(
        '--weights',
        nargs='+',
        help='one weight per stream, or a preset name (default: equal)')
    parser.add_argument(
        '--stream-names',
        nargs='+',
        help='stream names (default: config stems, or the names stored in '
        'the score files)')
    parser.add_argument(
        '--apply-softmax',
        action='store_true',
        help='softmax each stream before fusing (for logit scores; '
        "GCNHead's default average_clips='prob' already stores "
        'probabilities)')
    parser.add_argument(
        '--work-dir',
        help='work dir (default work_dirs/<config folder>/<config name>); '
        'with several streams each uses WORK_DIR/<stream>')
    parser.add_argument(
        '--dump',
        help='save per-stream and fused scores with ids to this .pkl (and '
        'each stream\'s MMAction2 results pickle in its work dir)')
    parser.add_argument(
        '--per-class',
        action='store_true',
        help='also print the top-1 accuracy of every class, by name')
    parser.add_argument(
        '--label-map',
        metavar='FILE',
        help='class names for --per-class, one per line (default: the '
        'names stored in the test pickle or the checkpoint)')
    parser.add_argument(
        '--ann-file',
        metavar='PATH',
        help='annotation pickle for every loader of every stream')
    parser.add_argument(
        '--num-classes',
        type=int,
        metavar='K',
        help='class count of every dataset, the head and every auxiliary '
        'head')
    parser.add_argument(
        '--allow-stream-mismatch',
        action='store_true',
        help='test a checkpoint trained on another stream than its config '
        'tests (refused by default)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (of every stream), xxx=yyy format')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='rank of this process (set by the launcher)')
    args = parser.parse_args(argv)
    if args.fuse and args.pairs:
        parser.error('give either CONFIG CHECKPOINT pairs or --fuse files, '
                     'not both')
    if not args.fuse:
        if not args.pairs:
            parser.error('give CONFIG CHECKPOINT (one pair per stream) or '
                         '--fuse SCORES.pkl ...')
        if len(args.pairs) % 2:
            parser.error(f'expected CONFIG CHECKPOINT pairs, got '
                         f'{len(args.pairs)} positional arguments: '
                         f'{args.pairs}')
        try:  # fail before any model runs
            resolve_weights(args.weights, len(args.pairs) // 2)
        except ValueError as err:
            parser.error(str(err))
    if args.label_map is not None and not osp.isfile(args.label_map):
        parser.error(f'--label-map: {args.label_map} does not exist')
    if args.dump is not None and not args.dump.endswith(('.pkl', '.pickle')):
        parser.error('the dump file must be a .pkl file')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def per_class_report(result, label_map: Optional[str] = None) -> str:
    """The ``--per-class`` table of a fusion result."""
    from mmskelcl.analysis.hierarchy import load_label_map
    from mmskelcl.analysis.per_class import format_per_class
    names = load_label_map(label_map) if label_map else None
    return format_per_class(result, names)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    import torch
    from mmskelcl.utils import allocator
    torch.set_num_threads(allocator.rank_threads(torch.get_num_threads()))
    print(f'mmskelcl {allocator.describe(torch.get_num_threads())}',
          file=sys.stderr, flush=True)
    if args.fuse:
        try:
            result = fuse_score_files(
                args.fuse,
                weights=args.weights,
                stream_names=args.stream_names,
                apply_softmax=args.apply_softmax)
        except OSError as err:
            sys.exit(f'error: --fuse: {err.filename}: {err.strerror}')
        except (KeyError, TypeError, ValueError) as err:
            sys.exit(f'error: {err.args[0] if err.args else err}')
        if args.dump is not None:
            save_fusion(result, args.dump)
    else:
        try:
            result = evaluate_streams(
                configs=args.pairs[0::2],
                checkpoints=args.pairs[1::2],
                weights=args.weights,
                stream_names=args.stream_names,
                work_dir=args.work_dir,
                cfg_options=args.cfg_options,
                launcher=args.launcher,
                dump=args.dump,
                apply_softmax=args.apply_softmax,
                ann_file=args.ann_file,
                num_classes=args.num_classes,
                allow_stream_mismatch=args.allow_stream_mismatch)
        except PreflightError as err:
            sys.exit(str(err))
    if result is None:  # non-main rank
        return
    print(format_report(result), flush=True)
    if args.per_class:
        try:
            print('\n' + per_class_report(result, args.label_map),
                  flush=True)
        except (OSError, ValueError) as err:
            sys.exit(f'error: --per-class: {err}')
    if args.dump is not None:
        print(f'Scores saved to {args.dump}', flush=True)


if __name__ == '__main__':
    main()
