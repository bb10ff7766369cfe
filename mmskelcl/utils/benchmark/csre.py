"""CSRE's training cost (its Table 8) as ratios, every encoder in one run.

For each encoder, ``configs/<dataset>/csre_<encoder>_<stream>.py`` is
benchmarked against its baseline ``<encoder>_<stream>.py`` with
:func:`~mmskelcl.utils.benchmark.benchmark` (both models in one process,
their training steps interleaved A, B, A, B, ... so drifts of a shared
machine hit both alike). The CSRE banks are filled with one random valid
entry per training sample of the dataset (the bank after its first epoch,
so the sampler does its full work on the real bank size).

Reported per encoder: the training step (median ms) with and without
CSRE, ``train_step_ratio`` (CSRE / plain; the paired ratio, the median of
per-step ratios, beside it), peak training memory and its ratio, the
parameter ratio (STFD is training-only) and the inference ratio (the
CSRE recognizer at test time is the plain one: ~1).
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .runner import benchmark

#: Training-set sizes (= bank slots) of the CSRE benchmarks (spec section
#: 4; NW-UCLA: one slot per repeated copy, 5 x 1,020).
TRAIN_SIZES = dict(ntu60_xsub=40091, ntu60_xview=37646, ntu120_xsub=63026,
                   ntu120_xset=54471, nwucla=5100)
ENCODERS = ('ctrgcn', 'agcn', 'blockgcn', 'hyperformer', 'hcn', 'infogcn')


def csre_pairs(dataset: str, encoders: Sequence[str] = ENCODERS,
               stream: str = 'j', config_root: str = 'configs'
               ) -> Dict[str, Tuple[str, str]]:
    """``{encoder: (csre config, baseline config)}`` of a dataset.

    Raises:
        FileNotFoundError: A config is missing (names the file).
    """
    pairs, missing = {}, []
    for enc in encoders:
        files = tuple(osp.join(config_root, dataset, f'{p}{enc}_{stream}.py')
                      for p in ('csre_', ''))
        missing += [f for f in files if not osp.isfile(f)]
        pairs[enc] = files
    if missing:
        raise FileNotFoundError(
            'CSRE benchmark: no such config ' + ', '.join(missing) +
            f' (datasets: {sorted(TRAIN_SIZES)}; encoders: {ENCODERS}; run '
            'from the repository root or pass config_root)')
    return pairs


def csre_overhead(pairs: Dict[str, Tuple[Any, Any]],
                  bank_size: int,
                  batch_size: Optional[int] = None,
                  iters: int = 10,
                  warmup: int = 2,
                  device: Optional[str] = None,
                  measure_memory: bool = True,
                  seed: int = 0) -> List[Dict[str, Any]]:
    """Benchmark every ``(csre, baseline)`` pair; one row per encoder.

    Args:
        pairs (dict): ``{name: (csre config, baseline config)}`` (paths,
            dicts or Configs; see :func:`csre_pairs`).
        bank_size (int): Slots of every CSRE bank (training-set size).
        batch_size (int, optional): Default: each config's own.
        iters (int): Timed steps per model.
        warmup (int): Untimed steps per model.
        device (str, optional): ``cpu`` / ``cuda``.
        measure_memory (bool): Also measure peak training memory.
        seed (int): Model and input seed.

    Returns:
        list[dict]: ``encoder``, ``batch_size``, ``csre_ms``, ``plain_ms``,
        ``train_step_ratio``, ``train_step_ratio_paired``,
        ``params_ratio``, ``infer_batch_ratio`` and, with memory,
        ``csre_mem_mb``, ``plain_mem_mb``, ``train_peak_mem_ratio``.
    """
    rows = []
    for name, (csre_cfg, base_cfg) in pairs.items():
        res = benchmark(csre_cfg, batch_size=batch_size, iters=iters,
                        warmup=warmup, device=device, baseline=base_cfg,
                        seed=seed, measure_memory=measure_memory,
                        bank_size=bank_size)
        base = res['baseline']
        row = dict(encoder=name, batch_size=res['batch_size'],
                   input_shape=res['input_shape'], device=res['device'],
                   num_threads=res['num_threads'], iters=iters,
                   bank_size=bank_size, csre_ms=res['train_step_ms'],
                   plain_ms=base['train_step_ms'],
                   train_step_ratio=res['train_step_ratio'],
                   train_step_ratio_paired=res['train_step_ratio_paired'],
                   params_ratio=res['params_ratio'],
                   infer_batch_ratio=res['infer_batch_ratio'])
        if measure_memory:
            row.update(csre_mem_mb=res['train_peak_mem_mb'],
                       plain_mem_mb=base['train_peak_mem_mb'],
                       train_peak_mem_ratio=res['train_peak_mem_ratio'])
        rows.append(row)
    return rows


def format_csre_overhead(rows: Sequence[Dict[str, Any]]) -> str:
    """A text table of :func:`csre_overhead` (CSRE / plain ratios)."""
    head = ['encoder', 'B', 'plain ms', 'CSRE ms', 'time x', 'paired x',
            'plain MB', 'CSRE MB', 'mem x', 'params x', 'infer x']
    body = []
    for r in rows:
        mem = [f"{r['plain_mem_mb']:.0f}", f"{r['csre_mem_mb']:.0f}",
               f"{r['train_peak_mem_ratio']:.3f}"] \
            if 'csre_mem_mb' in r else ['-'] * 3
        body.append([r['encoder'], str(r['batch_size']),
                     f"{r['plain_ms']:.0f}", f"{r['csre_ms']:.0f}",
                     f"{r['train_step_ratio']:.3f}",
                     f"{r['train_step_ratio_paired']:.3f}"] + mem +
                    [f"{r['params_ratio']:.3f}",
                     f"{r['infer_batch_ratio']:.3f}"])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = [' | '.join(c.rjust(w) for c, w in zip(row, widths))
             for row in [head] + body]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return 'CSRE training cost (CSRE / plain, interleaved steps):\n' + \
        '\n'.join(lines)
