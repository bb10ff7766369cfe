"""The demo behind ``make demo``: generate the bundled demo set, train the
four streams of the plain CTR-GCN baseline and of CACL briefly, test each
checkpoint, print each method's ensemble table and a side-by-side summary.
``make demo-csre`` runs it with ``--methods ctrgcn csre_ctrgcn`` (CTR-GCN
against CTR-GCN w/ CSRE; same seed, so the same initial encoder weights).

    python tools/run_demo.py [--methods ctrgcn cacl_ctrgcn]
                             [--streams j b jm bm] [--weights 2 2 1 1]
                             [--work-dir work_dirs/demo]
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = osp.join('data', 'demo', 'finegym_demo.pkl')
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)
from mmskelcl.utils.cli import DefaultsHelpFormatter  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()),
        formatter_class=DefaultsHelpFormatter)
    p.add_argument('--methods', nargs='+',
                   default=['ctrgcn', 'cacl_ctrgcn'],
                   help='config prefixes in configs/demo/')
    p.add_argument('--streams', nargs='+', default=['j', 'b', 'jm', 'bm'],
                   help='streams to train, test and fuse')
    p.add_argument('--weights', nargs='+', default=['2', '2', '1', '1'],
                   help='fusion weights (PySKL 2:2:1:1) or a preset name')
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'),
                   help='root of the runs, test logs and score dumps')
    p.add_argument('--seed', type=int, default=0, help='demo data seed')
    p.add_argument('--max-epochs', type=int, default=None,
                   help='shorter schedule (default: the configs\' 12 '
                   'epochs; the LR milestones stay where they are)')
    return p.parse_args()


def run(cmd) -> None:
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(REPO, work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def torch_threads() -> int:
    """Intra-op threads of the training runs (they inherit this env)."""
    import torch
    return torch.get_num_threads()


def children_allocator() -> str:
    """The allocator the training and test runs start with (they preload
    it themselves, see mmskelcl/utils/allocator.py)."""
    from mmskelcl.utils import allocator
    return allocator.resolve(allocator.requested())[0]


def summary(dumps: dict, streams: list) -> str:
    """Top-1 / mean-class accuracy of every method side by side."""
    from mmskelcl.utils.safe_pickle import safe_load
    rows = ['Demo summary: top-1 / mean-class accuracy (%) on the val split',
            'method'.ljust(14) + ''.join(s.rjust(14) for s in streams) +
            'fused'.rjust(14)]
    for method, path in dumps.items():
        metrics = safe_load(osp.join(REPO, path))['metrics']
        cells = [metrics[s] for s in streams] + [metrics['fused']]
        rows.append(method.ljust(14) + ''.join(
            f"{100 * m['top1']:6.2f} /{100 * m['mean1']:6.2f}"
            for m in cells))
    return '\n'.join(rows)


def main() -> None:
    args = parse_args()
    start = time.time()
    if not osp.exists(osp.join(REPO, DATA)):
        run([sys.executable, '-m', 'mmskelcl.utils.demo_data', DATA,
             '--seed', str(args.seed)])
    dumps = {}
    for method in args.methods:
        pairs = []
        for stream in args.streams:
            cfg = osp.join('configs', 'demo', f'{method}_{stream}.py')
            work = osp.join(args.work_dir, f'{method}_{stream}')
            extra = [] if args.max_epochs is None else [
                '--cfg-options', f'train_cfg.max_epochs={args.max_epochs}',
                f'train_cfg.val_interval={args.max_epochs}']
            run([sys.executable, 'tools/train.py', cfg, '--work-dir', work,
                 *extra])
            pairs += [cfg, last_checkpoint(work)]
        dumps[method] = osp.join(args.work_dir, f'{method}_scores.pkl')
        run([sys.executable, 'tools/test.py', *pairs, '--stream-names',
             *args.streams, '--weights', *args.weights, '--work-dir',
             osp.join(args.work_dir, f'{method}_test'), '--dump',
             dumps[method]])
    print(summary(dumps, args.streams))
    print(f'demo finished in {(time.time() - start) / 60:.1f} min with '
          f'{torch_threads()} torch threads per run, {children_allocator()} '
          'malloc (single streams change '
          'with the thread count: float reductions; see '
          'docs/get_started.md)', flush=True)


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
