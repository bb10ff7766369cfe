"""The benchmark entry point: interleaved timing of a config and an optional
baseline, then per-model memory (see the package docstring)."""
import platform
import statistics
from typing import Any, Dict, List, Optional, Sequence, Union

import torch

from .memory import process_max_rss_mb
from .shapes import (ConfigLike, _config_name, _type_name, infer_input_shape,
                     load_config)
from .subject import _Subject

# metric -> name of its ratio entry when a baseline is given
RATIO_METRICS = {
    'train_step_ms': 'train_step_ratio',
    'samples_per_s': 'samples_per_s_ratio',
    'infer_bs1_ms': 'infer_bs1_ratio',
    'infer_batch_ms': 'infer_batch_ratio',
    'train_peak_mem_mb': 'train_peak_mem_ratio',
    'test_peak_mem_mb': 'test_peak_mem_ratio',
    'params': 'params_ratio',
}


def _median(values: Sequence[float]) -> float:
    """Median of ``values`` as a float."""
    return float(statistics.median(values))


def interleaved_train_ms(subjects: Sequence[_Subject], iters: int,
                         warmup: int) -> List[List[float]]:
    """``warmup`` untimed then ``iters`` timed training steps of every
    subject, interleaved (A, B, A, B, ...) so that drifts of a shared
    machine hit all alike; the milliseconds of each subject's steps."""
    for _ in range(warmup):
        for s in subjects:
            s.train_step()
    times: List[List[float]] = [[] for _ in subjects]
    for _ in range(iters):
        for k, s in enumerate(subjects):
            times[k].append(s.train_step())
    return times


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of the per-pair ratios ``a[i] / b[i]`` of interleaved
    steps."""
    return _median([x / y for x, y in zip(a, b)])


def _device_name(device: torch.device) -> str:
    """GPU name, or the CPU's processor / machine name."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def benchmark(config: ConfigLike,
              batch_size: Optional[int] = None,
              iters: int = 20,
              warmup: int = 5,
              device: Optional[str] = None,
              cfg_options: Optional[dict] = None,
              shape: Optional[Sequence[int]] = None,
              amp: bool = False,
              baseline: Optional[ConfigLike] = None,
              baseline_cfg_options: Optional[dict] = None,
              seed: int = 0,
              measure_memory: bool = True,
              bank_size: int = 20484,
              compile: Union[bool, str] = False) -> Dict[str, Any]:
    """Benchmark a config (optionally against a baseline config).

    Args:
        config (str | dict | Config): Config to benchmark.
        batch_size (int, optional): Batch size; defaults to the config's
            ``train_dataloader.batch_size``.
        iters (int): Timed iterations per measurement. Defaults to 20.
        warmup (int): Untimed iterations before each measurement.
            Defaults to 5.
        device (str, optional): ``'cpu'`` or ``'cuda'`` (``'cuda:N'``);
            defaults to CUDA when available.
        cfg_options (dict, optional): Overrides for ``config``.
        shape (Sequence[int], optional): Per-sample ``(M, T, V, C)``;
            inferred from the config when None.
        amp (bool): Mixed precision (CUDA only): ``AmpOptimWrapper`` for
            training and fp16 autocast for inference. Defaults to False.
        baseline (str | dict | Config, optional): A second config measured
            in the same run with interleaved iterations.
        baseline_cfg_options (dict, optional): Overrides for ``baseline``.
        seed (int): Seed of model initialisation and random inputs.
            Defaults to 0.
        measure_memory (bool): Measure peak memory. Defaults to True.
        bank_size (int): Slots given to every memory bank of the model,
            filled with random valid entries (a bank after its first epoch).
            Defaults to 20484 (FineGym99's training set).
        compile (bool | str): ``torch.compile`` the backbone of
            ``config`` (``True``: inductor, or a backend name), not of the
            baseline: give the same config as ``baseline`` for compiled /
            eager ratios. Compilation runs in the warm-up, so give
            ``warmup >= 1``. Defaults to False.

    Returns:
        dict: JSON-serialisable results; with a baseline, the baseline's
        results under ``'baseline'`` and ``*_ratio`` entries
        (config / baseline, see :data:`RATIO_METRICS`).
    """
    if iters < 1 or warmup < 0:
        raise ValueError('need iters >= 1 and warmup >= 0')
    dev = torch.device(
        device if device is not None else (
            'cuda' if torch.cuda.is_available() else 'cpu'))
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError('--device cuda requested but CUDA is unavailable')
    if amp and dev.type != 'cuda':
        raise ValueError('--amp needs --device cuda (mmengine '
                         'AmpOptimWrapper runs on accelerators).')

    cfgs = [load_config(config, cfg_options)]
    names = [_config_name(config)]
    if baseline is not None:
        cfgs.append(load_config(baseline, baseline_cfg_options))
        names.append(_config_name(baseline))
    if dev.type == 'cuda':  # global switch: the config's setting wins
        env_cfg = cfgs[0].get('env_cfg', {}) or {}
        torch.backends.cudnn.benchmark = bool(
            env_cfg.get('cudnn_benchmark', False))

    if compile and warmup < 1:
        raise ValueError('--compile needs --warmup >= 1 (the first steps '
                         'compile)')
    subjects = []
    for k, cfg in enumerate(cfgs):
        bs = batch_size or cfg.get('train_dataloader', {}).get('batch_size')
        if not bs:
            raise ValueError('Cannot infer the batch size: set '
                             'train_dataloader.batch_size or --batch-size.')
        shp = tuple(int(s) for s in shape) if shape else infer_input_shape(cfg)
        if len(shp) != 4:
            raise ValueError(f'shape must be (M, T, V, C), got {shp}')
        subjects.append(
            _Subject(cfg, dev, int(bs), shp, amp, seed, bank_size,
                     compile=compile if k == 0 else False))

    # -- training steps, interleaved --------------------------------------
    train_ms = interleaved_train_ms(subjects, iters, warmup)

    # -- inference at batch size 1 and B, interleaved ---------------------
    infer_ms: Dict[str, List[List[float]]] = {}
    for key in ('bs1', 'batch'):
        for _ in range(warmup):
            for s in subjects:
                s.test_step(1 if key == 'bs1' else s.batch_size)
        infer_ms[key] = [[] for _ in subjects]
        for _ in range(iters):
            for k, s in enumerate(subjects):
                infer_ms[key][k].append(
                    s.test_step(1 if key == 'bs1' else s.batch_size))

    # -- memory, one model at a time (untimed) ---------------------------
    results = []
    for k, s in enumerate(subjects):
        res: Dict[str, Any] = dict(
            config=names[k],
            model=_type_name(s.cfg.model),
            backbone=_type_name(s.cfg.model.get('backbone') or {}) or None,
            device=str(dev),
            device_name=_device_name(dev),
            torch_version=torch.__version__,
            num_threads=torch.get_num_threads(),
            amp=s.amp,
            compiled=s.compiled,
            seed=seed,
            batch_size=s.batch_size,
            input_shape=list(s.shape),
            num_classes=s.num_classes,
            params=s.num_params,
            iters=iters,
            warmup=warmup,
            train_step_ms=_median(train_ms[k]),
            train_step_ms_min=min(train_ms[k]),
            train_step_ms_max=max(train_ms[k]),
        )
        res['samples_per_s'] = s.batch_size / res['train_step_ms'] * 1e3
        res['infer_bs1_ms'] = _median(infer_ms['bs1'][k])
        res['infer_batch_ms'] = _median(infer_ms['batch'][k])
        res['infer_samples_per_s'] = (
            s.batch_size / res['infer_batch_ms'] * 1e3)
        if measure_memory:
            res['train_peak_mem_mb'], method = s.peak_memory_mb(s.train_step)
            res['test_peak_mem_mb'], _ = s.peak_memory_mb(
                lambda s=s: s.test_step(s.batch_size))
            res['peak_mem_method'] = method
        if s.notes:
            res['notes'] = s.notes
        results.append(res)

    out = results[0]
    out['timing'] = ('median of per-iteration wall-clock times '
                     '(device synchronised), after warm-up')
    out['process_max_rss_mb'] = process_max_rss_mb()
    if len(results) > 1:
        base = results[1]
        out['baseline'] = base
        out['interleaved'] = True
        for metric, ratio in RATIO_METRICS.items():
            if metric in out and metric in base and base[metric]:
                out[ratio] = out[metric] / base[metric]
        # median of the per-iteration ratios of consecutive (paired) steps
        out['train_step_ratio_paired'] = paired_ratio(*train_ms)
    return out
