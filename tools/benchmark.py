"""Benchmark training-step time, inference latency and peak memory.

Usage::

    python tools/benchmark.py --bank-loss [--device cpu|cuda]
    python tools/benchmark.py --csre-overhead ntu60_xsub [--encoders
        ctrgcn agcn ...] [--batch-size N] [--iters N] [--warmup N]
    python tools/benchmark.py CONFIG [--batch-size N] [--iters N]
        [--warmup N] [--device cpu|cuda] [--cfg-options KEY=VAL ...]
        [--baseline CONFIG [--baseline-cfg-options KEY=VAL ...]]
        [--shape M T V C] [--amp] [--compile] [--seed N] [--no-memory]
    python tools/benchmark.py --pipeline CONFIG [--clips N]
        [--ann-file PATH | --synthetic [--frames T]] [--step-rates S ...]
    python tools/benchmark.py --suite gpu [--tiny --device cpu] [--out P]
        [--budget SECONDS]
    python tools/benchmark.py --skeattnclr [PRETRAIN_CONFIG]
        [--batch-size N] [--iters N] [--warmup N] [--device cpu|cuda]

Random inputs are shaped by the config (see
:func:`mmskelcl.utils.benchmark.infer_input_shape`). The results are
printed as ONE JSON object on the last line of stdout; with ``--baseline``
both configs run in the same process with interleaved iterations and the
JSON has ``*_ratio`` entries (config / baseline). Memory banks of the
model get ``--bank-size`` random valid entries (default: FineGym99's
20,484 training samples).

``--bank-loss`` times the batched bank loss (sampler + InfoNCE, forward and
backward, B=64, 256-d) against the per-sample reference implementation
kept in the tests (``reference_gcl.py``), for a 40,091-entry bank with 60
classes (NTU60 X-Sub) and a 20,484-entry bank with 99 classes (FineGym99),
and prints the speed-ups.

``--compile`` compiles the backbone of CONFIG with ``torch.compile``
(inductor; compilation happens in the warm-up); with ``--baseline CONFIG``
(the same file) the ``*_ratio`` entries are compiled / eager.

``--pipeline CONFIG`` measures the training data pipeline of CONFIG: clips
per second of one loader worker (CPU time of ``dataset[i]``), the time of
each transform and the workers a GPU needs at ``--step-rates`` steps per
second (see :mod:`mmskelcl.utils.benchmark.pipeline`). Without the
config's annotation file (or with ``--synthetic``) it runs on synthetic
clips of ``--frames`` frames shaped like the dataset's.

``--skeattnclr [PRETRAIN_CONFIG]`` (default
``configs/ntu60_xsub/skeattnclr_stgcn_j_pretrain.py``) times a SkeAttnCLR
pretraining iteration (train step + momentum update) against a supervised
step of the same encoder, interleaved in one run, at the config's batch
size (128), and reports the ratio and the bytes of the queue and of the
key encoder (see :mod:`mmskelcl.utils.benchmark.skeattnclr`). On a CPU
give ``--iters 3 --warmup 1``: one step at batch 128 takes seconds.

``--csre-overhead DATASET`` benchmarks every encoder's CSRE config against
its baseline config (joint stream) in one run, CSRE banks of the dataset's
training-set size, and prints CSRE / plain ratios of step time, peak
memory, parameters and inference (CSRE's Table 8; see
:mod:`mmskelcl.utils.benchmark.csre`).
"""
import argparse
import json
import os
import sys
from typing import List, Optional

if __name__ == '__main__':  # tcmalloc before torch loads (MMSKELCL_ALLOCATOR)
    import _preload  # noqa: F401  (tools/_preload.py)
try:
    import mmskelcl  # noqa: F401
except ImportError:  # run from a source checkout: python tools/...
    sys.path.insert(
        0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import mmskelcl  # noqa: F401

from mmengine.config import DictAction

from mmskelcl.utils.benchmark import benchmark


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Benchmark a skeleton recognizer config: train step '
        'time, samples/s, inference latency, peak memory (JSON on the last '
        'line).')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument('--pipeline', metavar='CONFIG',
                        help='benchmark the training data pipeline of '
                        'CONFIG (clips/s per loader worker)')
    parser.add_argument('--clips', type=int, default=300,
                        help='timed clips of --pipeline')
    parser.add_argument('--frames', type=int, default=100,
                        help='frames per synthetic clip of --pipeline')
    parser.add_argument('--ann-file', default=None,
                        help='annotation file of --pipeline instead of '
                        "the config's")
    parser.add_argument('--synthetic', action='store_true',
                        help='--pipeline on synthetic clips even if the '
                        'annotation file exists')
    parser.add_argument('--step-rates', type=float, nargs='+',
                        default=[5, 10, 20],
                        help='GPU steps/s for the workers --pipeline '
                        'reports')
    parser.add_argument('--bank-loss', action='store_true',
                        help='benchmark the bank loss against the '
                        'per-sample reference instead of a config')
    parser.add_argument(
        '--skeattnclr', nargs='?', metavar='PRETRAIN_CONFIG',
        const=os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            'configs', 'ntu60_xsub', 'skeattnclr_stgcn_j_pretrain.py'),
        help='SkeAttnCLR pretraining step vs a supervised step of its '
        'encoder (ratio), queue and key-encoder bytes')
    parser.add_argument('--csre-overhead', metavar='DATASET',
                        help='CSRE vs plain encoder, every encoder of '
                        '--encoders, on configs/DATASET (e.g. ntu60_xsub)')
    parser.add_argument('--encoders', nargs='+', default=None,
                        help='encoders of --csre-overhead (default: all)')
    parser.add_argument('--encoder-table', choices=('ntu', 'nwucla'),
                        help='every encoder (or --encoders) against CTR-GCN '
                        "on the dataset's shapes in one run: params, "
                        'FLOPs/clip, train-step and inference ratios '
                        '(mmskelcl.utils.benchmark.encoders)')
    parser.add_argument('--bank-size', type=int, default=20484,
                        help='entries of every memory bank of the model')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='batch size (default: train_dataloader.batch_size)')
    parser.add_argument(
        '--iters',
        type=int,
        default=20,
        help='timed iterations per measurement')
    parser.add_argument(
        '--warmup', type=int, default=5, help='untimed warm-up iterations')
    parser.add_argument(
        '--device',
        default=None,
        help='cpu or cuda[:N] (default: cuda when available)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of CONFIG, xxx=yyy format')
    parser.add_argument(
        '--baseline',
        default=None,
        help='second config, benchmarked interleaved')
    parser.add_argument(
        '--baseline-cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the baseline config')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=4,
        metavar=('M', 'T', 'V', 'C'),
        default=None,
        help='per-sample input shape (default: inferred)')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision (CUDA only)')
    parser.add_argument(
        '--compile', action='store_true',
        help='torch.compile the backbone of CONFIG (not of --baseline)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--allocator', choices=('auto', 'tcmalloc', 'jemalloc', 'glibc'),
        default=None,
        help='memory allocator of this run (default: MMSKELCL_ALLOCATOR, '
        'auto = tcmalloc when installed); the JSON names the one mapped')
    parser.add_argument(
        '--compare-allocators', nargs='+', metavar='ALLOCATOR',
        choices=('tcmalloc', 'jemalloc', 'glibc'),
        help='run this benchmark once per allocator in child processes '
        '(ratios to the first; see mmskelcl.utils.benchmark.allocators)')
    parser.add_argument('--repeats', type=int, default=1,
                        help='rounds of --compare-allocators')
    parser.add_argument(
        '--no-memory',
        action='store_true',
        help='skip the peak memory measurement')
    parser.add_argument(
        '--suite', choices=('gpu', ), help='the GPU suite: every method '
        'and encoder in fp32 / AMP, compile, bank loss, SkeAttnCLR '
        '(mmskelcl.utils.benchmark.suite); writes --out .md and .json')
    parser.add_argument('--tiny', action='store_true',
                        help='--suite at tiny sizes (CPU plumbing check)')
    parser.add_argument('--out', default='work_dirs/bench_gpu/suite',
                        help='--suite output prefix (.md, .json)')
    parser.add_argument('--budget', type=float, default=None,
                        help='--suite: no item starts after this many '
                        'seconds (default: the suite\'s BUDGET_S, 7 min)')
    return parser.parse_args(argv)


def bank_loss(device: str) -> dict:
    """The bank-loss benchmark of the two reference bank sizes."""
    from mmskelcl.utils.benchmark.bank import benchmark_bank_loss
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:0] = [os.path.join(repo, 'tests'),
                    os.path.join(repo, 'tests', 'cacl')]
    from reference_gcl import reference_bank_loss  # kept in the tests
    results = {}
    for name, size, classes in (('ntu60_xsub', 40091, 60),
                                ('finegym99', 20484, 99)):
        for strategy in ('R+CA', 'R+H'):
            res = benchmark_bank_loss(
                reference_bank_loss, bank_size=size, num_classes=classes,
                neg_strategy=strategy, device=device)
            print(f'{name} {strategy}: batched {res["batched_ms"]:.1f} ms, '
                  f'per-sample {res["reference_ms"]:.1f} ms, '
                  f'x{res["speedup"]:.1f}', file=sys.stderr, flush=True)
            results[f'{name}_{strategy}'] = res
    return results


def _switch_allocator(kind: str) -> None:
    """Re-execute under allocator ``kind`` unless it is already mapped."""
    from mmskelcl.utils import allocator
    if allocator.mapped() != allocator.resolve(kind)[0]:
        os.environ[allocator.ENV] = kind
        os.environ.pop('MMSKELCL_ALLOCATOR_EXECED', None)
        allocator.ensure()


def allocator_table(args: argparse.Namespace,
                    argv: Optional[List[str]]) -> dict:
    """``--compare-allocators``: this command once per allocator."""
    from mmskelcl.utils.benchmark.allocators import (compare_allocators,
                                                     format_allocators)
    rest, skip = [], 0
    for tok in (sys.argv[1:] if argv is None else argv):
        if skip:
            skip -= 1
        elif tok in ('--repeats', '--allocator'):
            skip = 1
        elif tok == '--compare-allocators':
            skip = len(args.compare_allocators)
        else:
            rest.append(tok)
    res = compare_allocators(rest, args.compare_allocators, args.repeats,
                             tool=os.path.abspath(__file__))
    print(format_allocators(res), file=sys.stderr, flush=True)
    return res


def _with_env(result: dict) -> dict:
    """``result`` plus the allocator and the thread count of this run."""
    import torch
    from mmskelcl.utils import allocator
    return dict(result, allocator=allocator.mapped(),
                threads=torch.get_num_threads())


def main(argv: Optional[List[str]] = None) -> None:
    """Run the benchmark and print the JSON result as the last line."""
    args = parse_args(argv)
    if args.suite:
        from mmskelcl.utils.benchmark import suite
        res = suite.run_suite(args.device, tiny=args.tiny,
                              budget_s=(suite.BUDGET_S if args.budget is None
                                        else args.budget),
                              say=lambda m: print(m, file=sys.stderr,
                                                  flush=True))
        print(suite.markdown(res), file=sys.stderr, flush=True)
        print(json.dumps(dict(zip(('json', 'markdown'),
                                  suite.write(res, args.out)))), flush=True)
        return
    if args.compare_allocators:
        print(json.dumps(allocator_table(args, argv)), flush=True)
        return
    if args.allocator and argv is None:
        _switch_allocator(args.allocator)
    if args.bank_loss:
        print(json.dumps(bank_loss(args.device or 'cpu')), flush=True)
        return
    if args.pipeline:
        from mmskelcl.utils.benchmark.pipeline import benchmark_pipeline
        res = benchmark_pipeline(
            args.pipeline, num_clips=args.clips, warmup=args.warmup,
            ann_file=args.ann_file, synthetic=args.synthetic,
            frames=args.frames, cfg_options=args.cfg_options,
            step_rates=args.step_rates, seed=args.seed)
        print(f'{res["clips_per_s_per_worker"]:.0f} clips/s per worker '
              f'({res["ms_per_clip"]:.2f} ms/clip, {res["data"]}); workers '
              f'for steps/s at batch {res["batch_size"]}: '
              f'{res["workers_needed"]}', file=sys.stderr, flush=True)
        print(json.dumps(_with_env(res)), flush=True)
        return
    if args.encoder_table:
        from mmskelcl.utils.benchmark import encoders as enc
        res = enc.benchmark_encoders(
            args.encoder_table, args.encoders or enc.ENCODERS,
            batch_size=args.batch_size, iters=args.iters,
            warmup=args.warmup, device=args.device or 'cpu', seed=args.seed)
        print(enc.markdown_table(res), file=sys.stderr, flush=True)
        print(json.dumps(_with_env(res)), flush=True)
        return
    if args.skeattnclr:
        from mmskelcl.utils.benchmark.skeattnclr import (
            format_skeattnclr_cost, skeattnclr_cost)
        res = skeattnclr_cost(
            args.skeattnclr, batch_size=args.batch_size, iters=args.iters,
            warmup=args.warmup, device=args.device,
            cfg_options=args.cfg_options, shape=args.shape, seed=args.seed)
        print(format_skeattnclr_cost(res), file=sys.stderr, flush=True)
        print(json.dumps(_with_env(res)), flush=True)
        return
    if args.csre_overhead:
        from mmskelcl.utils.benchmark.csre import (ENCODERS, TRAIN_SIZES,
                                                   csre_overhead, csre_pairs,
                                                   format_csre_overhead)
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        pairs = csre_pairs(args.csre_overhead, args.encoders or ENCODERS,
                           config_root=os.path.join(repo, 'configs'))
        rows = csre_overhead(
            pairs, TRAIN_SIZES.get(args.csre_overhead, args.bank_size),
            batch_size=args.batch_size, iters=args.iters,
            warmup=args.warmup, device=args.device,
            measure_memory=not args.no_memory, seed=args.seed)
        print(format_csre_overhead(rows), file=sys.stderr, flush=True)
        print(json.dumps(rows), flush=True)
        return
    if args.config is None:
        raise SystemExit('a CONFIG (or --pipeline CONFIG, --bank-loss, '
                         '--skeattnclr, --csre-overhead DATASET) is '
                         'required')
    result = benchmark(
        args.config,
        batch_size=args.batch_size,
        iters=args.iters,
        warmup=args.warmup,
        device=args.device,
        cfg_options=args.cfg_options,
        shape=args.shape,
        amp=args.amp,
        baseline=args.baseline,
        baseline_cfg_options=args.baseline_cfg_options,
        seed=args.seed,
        measure_memory=not args.no_memory,
        bank_size=args.bank_size,
        compile=args.compile)
    sys.stderr.flush()
    print(json.dumps(_with_env(result)), flush=True)


if __name__ == '__main__':
    main()
