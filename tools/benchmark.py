"""Benchmark training-step time, inference latency and peak memory.

Usage::

    python tools/benchmark.py CONFIG [--batch-size N] [--iters N]
        [--warmup N] [--device cpu|cuda] [--cfg-options KEY=VAL ...]
        [--baseline CONFIG [--baseline-cfg-options KEY=VAL ...]]
        [--shape M T V C] [--amp] [--seed N] [--no-memory]

Random inputs are shaped by the config (see
:func:`mmskelcl.utils.benchmark.infer_input_shape`). The results are
printed as ONE JSON object on the last line of stdout; with ``--baseline``
both configs run in the same process with interleaved iterations and the
JSON has ``*_ratio`` entries (config / baseline).
"""
import argparse
import json
import os
import sys
from typing import List, Optional

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
    parser.add_argument('config', help='config file')
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
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-memory',
        action='store_true',
        help='skip the peak memory measurement')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the benchmark and print the JSON result as the last line."""
    args = parse_args(argv)
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
        measure_memory=not args.no_memory)
    sys.stderr.flush()
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
