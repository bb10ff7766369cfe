"""Paired multi-seed experiments: a grid of configs x seeds under one
schedule, one JSON per run, and the comparison table.

Run a grid (each run: ``tools/train.py``, then ``tools/test.py`` on the
last checkpoint; finished runs are skipped, an interrupted one resumes)::

    python tools/experiment.py run configs/nwucla/ctrgcn_j.py \\
        configs/nwucla/csre_ctrgcn_j.py --seeds 1 2 3 \\
        --ann-file data/nwucla/nwucla.pkl --passes 30 --warmup-passes 3 \\
        --lr-steps 24 --batch-size 16 --repeat 5 \\
        --work-dir work_dirs/experiments/nwucla \\
        --results-dir docs/results/nwucla

Self-supervised protocol as grid entries: ``PRETRAIN>LINEAR`` (pretrain,
then a linear probe of its last checkpoint) and ``random>LINEAR`` (the same
probe on a random frozen backbone); the probe's schedule is
``--probe-passes / --probe-lr-steps / --probe-batch-size``.

Table and plot of the JSONs of a results folder::

    python tools/experiment.py table docs/results/nwucla \\
        --baseline ctrgcn_j --out docs/results/nwucla/table.md

Where a grid stands (``status``: the arguments of ``run``; starts nothing)
and its training curves (``curves WORK_DIR --out FILE.png``).

The schedule is stated in passes over the training clips (an epoch of a
config that repeats its training set R times is R passes) and reaches
``tools/train.py`` as ``--cfg-options`` (see
:mod:`mmskelcl.utils.experiment.schedule`). Every run adds
``EpochSeedHook`` (per-epoch seeding, so a resumed run draws what an
uninterrupted one draws) and non-persistent loader workers.
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.utils.cli import DefaultsHelpFormatter  # noqa: E402

# measured on the idle 2-core machine (docs/user_guides/experiments.md, "Jobs
# and threads"): 2 x 1 thread runs 1.23x the steps/s of 1 x 2, 4.8x of 2 x 2
DEFAULT_JOBS = min(2, os.cpu_count() or 1)
DEFAULT_THREADS = 1


def add_schedule_args(p: argparse.ArgumentParser, prefix: str = '') -> None:
    dash = f'--{prefix}-' if prefix else '--'
    what = 'linear probe: ' if prefix else ''
    p.add_argument(f'{dash}passes', type=int,
                   help=f'{what}passes over the training clips (default: '
                   'the config\'s epochs)')
    p.add_argument(f'{dash}warmup-passes', type=float,
                   help=f'{what}linear warm-up by iteration over this many '
                   'passes (0: none)')
    p.add_argument(f'{dash}lr-steps', type=float, nargs='+',
                   help=f'{what}passes after which lr x gamma')
    p.add_argument(f'{dash}batch-size', type=int,
                   help=f'{what}training batch size')
    if not prefix:
        p.add_argument('--repeat', type=int,
                       help='dataset repeat (RepeatDataset times)')


def schedule_of(args: argparse.Namespace, prefix: str = ''):
    from mmskelcl.utils.experiment.schedule import Schedule
    pre = f'{prefix}_' if prefix else ''
    return Schedule(passes=getattr(args, f'{pre}passes'),
                    repeat=None if prefix else args.repeat,
                    batch_size=getattr(args, f'{pre}batch_size'),
                    warmup_passes=getattr(args, f'{pre}warmup_passes'),
                    lr_steps=getattr(args, f'{pre}lr_steps'),
                    log_interval=args.log_interval,
                    extra=list(args.cfg_options or []) if not prefix else
                    list(args.probe_cfg_options or []))


def add_grid_args(p: argparse.ArgumentParser) -> None:
    """The grid's arguments, shared by ``run`` and ``status``."""
    p.add_argument('entries', nargs='+', help='configs, PRETRAIN>LINEAR or '
                   'random>LINEAR')
    p.add_argument('--seeds', type=int, nargs='+', default=[1])
    p.add_argument('--ann-file', help='annotation pickle of every loader')
    add_schedule_args(p)
    add_schedule_args(p, 'probe')
    p.add_argument('--log-interval', type=int, default=10,
                   help='logger interval = log window (iterations)')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='more key=value overrides of every training stage '
                   '(also given to the test of supervised entries)')
    p.add_argument('--probe-cfg-options', nargs='+', default=[],
                   help='more key=value overrides of the linear probes '
                   '(training and test)')
    p.add_argument('--jobs', type=int, default=DEFAULT_JOBS,
                   help='runs at the same time')
    p.add_argument('--work-dir', default=osp.join('work_dirs',
                                                  'experiments'))
    p.add_argument('--results-dir', default=osp.join('work_dirs',
                                                     'experiments',
                                                     'results'))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=DefaultsHelpFormatter)
    sub = p.add_subparsers(dest='command', required=True)
    r = sub.add_parser('run', help='run a grid of configs x seeds',
                       formatter_class=DefaultsHelpFormatter)
    add_grid_args(r)
    r.add_argument('--threads-per-job', type=int, default=DEFAULT_THREADS,
                   help='OMP/MKL threads of each run')
    r.add_argument('--force', action='store_true',
                   help='allow jobs x threads above the CPU cores')
    r.add_argument('--nice', type=int, default=19,
                   help='niceness of the runs (0: none)')
    r.add_argument('--validate', action='store_true',
                   help='keep the configs\' per-epoch validation (off: '
                   'the test split is read once, at the end)')
    r.add_argument('--entry-major', action='store_true',
                   help='all seeds of an entry before the next entry '
                   '(default: seed-major, each seed a full paired set)')
    s = sub.add_parser('status', help='where a grid stands (finished, '
                       'training, stopped, waiting runs) and the time it '
                       'still needs; same arguments as run, nothing is '
                       'started',
                       formatter_class=DefaultsHelpFormatter)
    add_grid_args(s)
    c = sub.add_parser('curves', help='training curves (per-epoch loss '
                       'means) of the runs of a work dir, as a PNG',
                       formatter_class=DefaultsHelpFormatter)
    c.add_argument('work_dir')
    c.add_argument('--seeds', type=int, nargs='+', help='only these seeds')
    c.add_argument('--entries', nargs='+', help='only these entries')
    c.add_argument('--out', required=True, help='PNG file')
    t = sub.add_parser('table', help='markdown table and plot of a results '
                       'folder', formatter_class=DefaultsHelpFormatter)
    t.add_argument('results_dir')
    t.add_argument('--baseline', action='append', default=[],
                   metavar='ENTRY', help='baseline entry of the paired '
                   'differences (repeatable; default: per entry its '
                   'encoder config without the method prefix)')
    t.add_argument('--expect', nargs='+', default=[],
                   metavar='ENTRY:SEEDS', help='runs that should exist, '
                   'e.g. ctrgcn_j:1,2,3 (missing ones: "pending")')
    t.add_argument('--out', help='markdown file (default: print); the plot '
                   'goes next to it as .png')
    t.add_argument('--into', metavar='DOC.md', help='also fill the block '
                   '<!-- experiment-table RESULTS_DIR --> ... <!-- '
                   '/experiment-table --> of this markdown file')
    t.add_argument('--metric', default='top1',
                   choices=['top1', 'top5', 'mean_class'])
    return p.parse_args(argv)


def grid_of(args: argparse.Namespace):
    """``(RunSpec, entries)`` of the ``run`` / ``status`` arguments; exits
    with the reason on a bad entry or annotation path."""
    from mmskelcl.utils.experiment.runs import RunSpec, parse_entry
    try:
        entries = [parse_entry(e) for e in args.entries]
    except ValueError as err:
        sys.exit(f'error: {err}')
    if args.ann_file and not osp.isfile(args.ann_file):
        sys.exit(f'error: --ann-file not found: {args.ann_file}')
    spec = RunSpec(repo=REPO, work_dir=osp.abspath(args.work_dir),
                   results_dir=osp.abspath(args.results_dir),
                   schedule=schedule_of(args),
                   probe_schedule=schedule_of(args, 'probe'),
                   ann_file=(osp.abspath(args.ann_file) if args.ann_file
                             else None),
                   threads=getattr(args, 'threads_per_job', 1),
                   nice=getattr(args, 'nice', 0),
                   validate=getattr(args, 'validate', False))
    return spec, entries


def cmd_status(args: argparse.Namespace) -> int:
    from mmskelcl.utils.experiment.status import format_status, run_status
    spec, entries = grid_of(args)
    runs = [run_status(spec, e, s) for s in args.seeds for e in entries]
    print(format_status(runs, args.jobs))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from mmskelcl.utils.experiment.grid import run_grid
    from mmskelcl.utils import allocator
    cores = allocator.available_cores()
    load = args.jobs * args.threads_per_job
    malloc = allocator.resolve(allocator.requested())[0]
    print(f'experiment: {args.jobs} job(s) x {args.threads_per_job} '
          f'thread(s) = {load} on {cores} core(s), nice {args.nice}, '
          f'{malloc} malloc', flush=True)
    if load > cores and not args.force:
        sys.exit(f'error: --jobs {args.jobs} x --threads-per-job '
                 f'{args.threads_per_job} = {load} threads exceeds the '
                 f'{cores} CPU cores (they would thrash); lower them or '
                 'give --force')
    spec, entries = grid_of(args)
    results = run_grid(spec, entries, args.seeds, jobs=args.jobs,
                       seed_major=not args.entry_major)
    failed = [r for r in results if r['status'] == 'failed']
    busy = [r for r in results if r['status'] == 'busy']
    print(f'experiment: {len(results) - len(failed) - len(busy)} run(s) '
          f'finished, {len(failed)} failed' +
          (f', {len(busy)} busy in another process' if busy else ''),
          flush=True)
    return 1 if failed else 0


def cmd_curves(args: argparse.Namespace) -> int:
    from mmskelcl.utils.experiment.curves import collect, plot_curves
    curves = collect(args.work_dir, args.seeds, args.entries)
    if not curves:
        sys.exit(f'error: no training log under {args.work_dir} '
                 '(<entry>/seed<k>/train/*/vis_data/scalars.json)')
    plot_curves(curves, args.out)
    print(f'{len(curves)} run(s) -> {args.out}')
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from mmskelcl.utils.experiment.table import write_table
    text = write_table(args.results_dir, baselines=args.baseline,
                       expect=args.expect, out=args.out, metric=args.metric,
                       into=args.into)
    if args.out is None:
        print(text)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return dict(run=cmd_run, status=cmd_status, curves=cmd_curves,
                table=cmd_table)[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
