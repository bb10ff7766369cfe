"""Speed and memory benchmark of a skeleton recognizer config.

Measures, on random inputs shaped like the config's training batches:

* the full training step ``model.train_step(data, optim_wrapper)`` with the
  config's optimizer (built with mmengine's :func:`build_optim_wrapper`,
  so ``paramwise_cfg``, gradient clipping and AMP behave as in training),
* inference latency of ``model.test_step`` at batch size 1 and at the
  benchmark batch size,
* peak memory of one training step and one inference step.

Times are medians of per-iteration wall-clock times after warm-up, with the
device synchronised around each iteration. With a baseline config both
models are built in the same process and their timed iterations are
interleaved (A, B, A, B, ...) so that slow drifts of the machine (thermal
throttling, other tenants) affect both equally; the result then carries
``<metric>_ratio = config / baseline`` entries.

Peak memory:

Both are "what ``torch.cuda.max_memory_allocated`` would say if this model
were alone on the device": the bytes of the model's tensors alive at the
start of the step (parameters, buffers, gradients, optimizer state, inputs
already on the device) plus the peak growth of allocated tensor memory
during one step.

* CUDA: the growth is ``max_memory_allocated`` (after
  ``reset_peak_memory_stats``) minus ``memory_allocated`` before the step.
* CPU: the growth is the peak of the running sum of the tensor allocations
  and frees recorded by ``torch.profiler.profile(profile_memory=True)``
  (falls back to the peak growth of the process RSS, sampled every
  millisecond by a thread, if the profiler records no memory events).

``peak_mem_method`` names the method used. The process-wide maximum RSS
(``getrusage``) is reported separately as ``process_max_rss_mb``; it also
counts the Python interpreter, the libraries and, with a baseline, both
models.

Only the config's ``model``, ``optim_wrapper``, ``train_dataloader`` (batch
size and pipeline) and ``env_cfg.cudnn_benchmark`` are used; no dataset is
read. Model weights keep their constructor initialisation
(``init_weights`` is not called, so no checkpoint is loaded).
"""
import copy
import gc
import os
import platform
import statistics
import threading
import time
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

ConfigLike = Union[str, dict, Config]
Shape = Tuple[int, int, int, int]

__all__ = [
    'load_config', 'infer_input_shape', 'infer_num_classes', 'make_fake_batch',
    'benchmark', 'RATIO_METRICS'
]

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

_MB = float(2**20)

# ---------------------------------------------------------------------------
# Config inspection
# ---------------------------------------------------------------------------


def load_config(config: ConfigLike,
                cfg_options: Optional[dict] = None) -> Config:
    """Load a config from a path, a dict or a :class:`Config`.

    ``custom_imports`` of dict configs are imported too (files get them
    imported by :meth:`Config.fromfile`).

    Args:
        config (str | dict | Config): The config.
        cfg_options (dict, optional): Overrides merged into the config
            (``--cfg-options`` style keys). Defaults to None.

    Returns:
        Config: A copy of the config with the overrides applied.
    """
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif isinstance(config, dict):
        cfg = Config(copy.deepcopy(config))
        imports = cfg.get('custom_imports')
        if imports:
            from mmengine.utils import import_modules_from_strings
            import_modules_from_strings(**imports)
    else:
        cfg = Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _walk(obj: Any) -> Iterator[dict]:
    """Yield every dict nested in ``obj`` (depth first, in order)."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _walk(value)


def _type_name(transform: dict) -> str:
    """Bare type name of a registry config (``'mmaction.X'`` -> ``'X'``)."""
    t = transform.get('type', '')
    if not isinstance(t, str):
        t = getattr(t, '__name__', str(t))
    return t.rsplit('.', 1)[-1]


def _train_pipeline(cfg: Config) -> List[dict]:
    """Transforms of the training pipeline (searched in the dataloader)."""
    transforms: List[dict] = []
    for d in _walk(cfg.get('train_dataloader', {})):
        pipeline = d.get('pipeline')
        if isinstance(pipeline, (list, tuple)):
            transforms.extend(t for t in pipeline if isinstance(t, dict))
    if not transforms and isinstance(cfg.get('train_pipeline'), (list, tuple)):
        transforms = [t for t in cfg.train_pipeline if isinstance(t, dict)]
    return transforms


def _find_graph_backbone(cfg: Config) -> Optional[dict]:
    """The first model sub-config that has a ``graph_cfg`` (the backbone)."""
    model = cfg.get('model', {})
    backbone = model.get('backbone') if isinstance(model, dict) else None
    for d in _walk(backbone if backbone is not None else model):
        if 'graph_cfg' in d:
            return d
    for d in _walk(model):
        if 'graph_cfg' in d:
            return d
    return None


def infer_input_shape(cfg: Config) -> Shape:
    """Infer the per-sample input shape ``(M, T, V, C)`` from a config.

    * ``T``: ``clip_len`` of the training pipeline transform that has one
      (``UniformSampleFrames`` or any other).
    * ``M``: ``num_person`` of ``FormatGCNInput`` (its default, 2, when the
      transform does not set it).
    * ``V``: the backbone's ``graph_cfg.layout``: a layout name looked up in
      :data:`mmskelcl.datasets.layouts.NUM_JOINTS`, or a dict with
      ``num_node``.
    * ``C``: the backbone's ``in_channels`` (default 3).

    Args:
        cfg (Config): The config.

    Returns:
        tuple[int]: ``(num_person, clip_len, num_joints, in_channels)``.

    Raises:
        ValueError: If a dimension cannot be inferred (pass ``shape``
            explicitly, ``--shape M T V C`` on the command line).
    """
    from mmskelcl.datasets.layouts import NUM_JOINTS
    hint = ' Pass the input shape explicitly (--shape M T V C).'
    pipeline = _train_pipeline(cfg)
    if not pipeline:
        raise ValueError('Cannot infer the input shape: the config has no '
                         'train_dataloader pipeline.' + hint)
    clip_lens = [t['clip_len'] for t in pipeline if 'clip_len' in t]
    if not clip_lens:
        raise ValueError('Cannot infer clip_len: no transform of the train '
                         'pipeline has a `clip_len`.' + hint)
    formats = [t for t in pipeline if _type_name(t) == 'FormatGCNInput']
    if not formats:
        raise ValueError('Cannot infer num_person: the train pipeline has '
                         'no FormatGCNInput.' + hint)
    num_person = formats[0].get('num_person', 2)
    backbone = _find_graph_backbone(cfg)
    if backbone is None:
        raise ValueError('Cannot infer the number of joints: no model '
                         'sub-config has a `graph_cfg`.' + hint)
    layout = backbone['graph_cfg'].get('layout')
    if isinstance(layout, str):
        if layout not in NUM_JOINTS:
            raise ValueError(f'Unknown layout {layout!r}; known: '
                             f'{sorted(NUM_JOINTS)}.' + hint)
        num_joints = NUM_JOINTS[layout]
    elif isinstance(layout, dict) and 'num_node' in layout:
        num_joints = layout['num_node']
    else:
        raise ValueError(f'Cannot infer the number of joints from layout '
                         f'{layout!r}.' + hint)
    in_channels = backbone.get('in_channels', 3)
    return (int(num_person), int(clip_lens[0]), int(num_joints),
            int(in_channels))


def infer_num_classes(cfg: Config) -> int:
    """First ``num_classes`` found in the model config (1 if none)."""
    for d in _walk(cfg.get('model', {})):
        if isinstance(d.get('num_classes'), int):
            return d['num_classes']
    return 1


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def make_fake_batch(batch_size: int,
                    shape: Sequence[int],
                    num_classes: int,
                    seed: int = 0) -> dict:
    """A random batch in the format the data preprocessor expects.

    Args:
        batch_size (int): Number of samples ``B``.
        shape (Sequence[int]): Per-sample ``(M, T, V, C)``.
        num_classes (int): Labels are drawn from ``[0, num_classes)``.
        seed (int): Seed of the generator. Defaults to 0.

    Returns:
        dict: ``{'inputs': [tensor (1, M, T, V, C)] * B, 'data_samples':
        [ActionDataSample] * B}`` with ``gt_label`` and metainfo
        ``sample_idx = i`` and ``frame_dir = str(i)``.
    """
    from mmaction.structures import ActionDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randn((1, ) + tuple(shape), generator=gen)
        for _ in range(batch_size)
    ]
    labels = torch.randint(
        max(num_classes, 1), (batch_size, ), generator=gen).tolist()
    samples = []
    for i, label in enumerate(labels):
        sample = ActionDataSample()
        sample.set_gt_label(label)
        sample.set_metainfo(dict(sample_idx=i, frame_dir=str(i)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _fresh(batch: dict, size: Optional[int] = None) -> dict:
    """A new batch dict (the data preprocessor rewrites it in place)."""
    n = len(batch['inputs']) if size is None else size
    return dict(
        inputs=list(batch['inputs'][:n]),
        data_samples=[s.clone() for s in batch['data_samples'][:n]])


# ---------------------------------------------------------------------------
# One benchmarked model
# ---------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class _Subject:
    """A built model, its optimizer wrapper and batches for one config."""

    def __init__(self, cfg: Config, device: torch.device, batch_size: int,
                 shape: Shape, amp: bool, seed: int,
                 bank_size: int = 0) -> None:
        from mmaction.registry import MODELS
        self.cfg = cfg
        self.device = device
        self.batch_size = batch_size
        self.shape = shape
        self.amp = amp
        self.num_classes = infer_num_classes(cfg)
        self.notes: List[str] = []
        init_default_scope(cfg.get('default_scope', 'mmaction'))
        set_random_seed(seed)
        self.model = MODELS.build(copy.deepcopy(cfg.model)).to(device)
        from .benchmark_bank import fill_banks
        if fill_banks(self.model, max(bank_size, batch_size),
                      self.num_classes, seed):
            self.notes.append(f'memory banks filled with '
                              f'{max(bank_size, batch_size)} random entries')
        self.optim_wrapper = self._build_optim_wrapper()
        self.batch = make_fake_batch(batch_size, shape, self.num_classes, seed)

    def _build_optim_wrapper(self) -> OptimWrapper:
        if 'optim_wrapper' not in self.cfg:
            raise ValueError('The config has no `optim_wrapper`.')
        optim_cfg = copy.deepcopy(self.cfg.optim_wrapper)
        optim_type = optim_cfg.get('type', 'OptimWrapper')
        if self.amp:
            if self.device.type != 'cuda':
                raise ValueError('--amp needs --device cuda (mmengine '
                                 'AmpOptimWrapper runs on accelerators).')
            optim_cfg['type'] = 'AmpOptimWrapper'
        elif optim_type in ('AmpOptimWrapper', 'mmengine.AmpOptimWrapper'):
            if self.device.type == 'cuda':
                self.amp = True
            else:
                optim_cfg['type'] = 'OptimWrapper'
                for key in ('loss_scale', 'dtype', 'use_fsdp'):
                    optim_cfg.pop(key, None)
                self.notes.append('AmpOptimWrapper replaced by OptimWrapper '
                                  '(fp32) on CPU')
        return build_optim_wrapper(self.model, optim_cfg)

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def train_step(self) -> float:
        """One timed ``train_step``; returns milliseconds."""
        data = _fresh(self.batch)
        self.model.train()
        _sync(self.device)
        start = time.perf_counter()
        self.model.train_step(data, self.optim_wrapper)
        _sync(self.device)
        return (time.perf_counter() - start) * 1e3

    def _autocast(self) -> torch.autocast:
        if self.amp and self.device.type == 'cuda':
            dtype = getattr(self.optim_wrapper, 'cast_dtype', None)
            return torch.autocast(
                device_type='cuda', dtype=dtype or torch.float16)
        return torch.autocast(device_type=self.device.type, enabled=False)

    def test_step(self, size: int) -> float:
        """One timed ``test_step`` at batch size ``size``; milliseconds."""
        data = _fresh(self.batch, size)
        self.model.eval()
        _sync(self.device)
        start = time.perf_counter()
        with torch.no_grad(), self._autocast():
            self.model.test_step(data)
        _sync(self.device)
        return (time.perf_counter() - start) * 1e3

    # -- memory ---------------------------------------------------------

    def _resident_bytes(self) -> int:
        """Bytes of this model's tensors alive between steps.

        Parameters, gradients, buffers, optimizer state and the input batch
        that live on the benchmark device.
        """
        seen = set()
        total = 0

        def add(t: Optional[torch.Tensor]) -> None:
            nonlocal total
            if (not isinstance(t, torch.Tensor)
                    or t.device.type != self.device.type):
                return
            key = (t.untyped_storage().data_ptr(),
                   t.untyped_storage().nbytes())
            if key in seen:
                return
            seen.add(key)
            total += t.untyped_storage().nbytes()

        for p in self.model.parameters():
            add(p)
            add(p.grad)
        for b in self.model.buffers():
            add(b)
        for state in self.optim_wrapper.optimizer.state.values():
            for v in state.values():
                add(v)
        for t in self.batch['inputs']:
            add(t)
        return total

    def peak_memory_mb(self, step: Callable[[], Any]) -> Tuple[float, str]:
        """Peak memory of one call of ``step`` in MiB (see module doc).

        Returns:
            tuple[float, str]: The peak and the name of the method used.
        """
        gc.collect()
        resident = self._resident_bytes()
        if self.device.type == 'cuda':
            # Other models of the run (baseline) also live on the device:
            # count this model's state plus the growth during the step.
            torch.cuda.empty_cache()
            _sync(self.device)
            before = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            step()
            _sync(self.device)
            peak = torch.cuda.max_memory_allocated(self.device) - before
            return (resident + peak) / _MB, (
                'cuda_live_tensors_plus_peak_growth (bytes of parameters, '
                'buffers, grads and optimizer state alive before the step + '
                'torch.cuda.max_memory_allocated growth during the step)')
        try:
            peak = _profiled_peak_bytes(step)
        except Exception:  # profiler internals differ: sample the RSS
            return _rss_peak_delta_mb(step), (
                'cpu_rss_delta (peak process RSS sampled every ms during '
                'the step minus RSS before it; allocator caching may hide '
                'reused memory)')
        return (resident + peak) / _MB, (
            'cpu_live_tensors_plus_profiler_peak (bytes of parameters, '
            'buffers, grads, optimizer state and inputs alive before the '
            'step + peak net allocation during the step from '
            'torch.profiler profile_memory)')


def _profiled_peak_bytes(step: Callable[[], Any]) -> int:
    """Peak of the net CPU tensor allocations during ``step``."""
    from torch.profiler import ProfilerActivity, profile
    with profile(
            activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = [
        e for e in prof.profiler.kineto_results.events()
        if e.name() == '[memory]' and 'cpu' in str(e.device_type()).lower()
    ]
    if not events:
        raise RuntimeError('the profiler recorded no memory events')
    events.sort(key=lambda e: e.start_ns())
    current = peak = 0
    for e in events:
        current += e.nbytes()
        peak = max(peak, current)
    return peak


def _rss_bytes() -> int:
    """Current resident set size (Linux ``/proc``)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _rss_peak_delta_mb(step: Callable[[], Any]) -> float:
    """Peak RSS growth during ``step``, sampled by a background thread."""
    before = _rss_bytes()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            done.wait(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        step()
    finally:
        done.set()
        thread.join()
    return (max(peak, _rss_bytes()) - before) / _MB


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _process_max_rss_mb() -> Optional[float]:
    try:
        import resource
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / (_MB if platform.system() == 'Darwin' else 1024.0)


def _config_name(config: ConfigLike) -> str:
    if isinstance(config, Config):
        return str(config.filename) if config.filename else '<config>'
    return '<dict>' if isinstance(config, dict) else str(config)


def _device_name(device: torch.device) -> str:
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
              bank_size: int = 20484) -> Dict[str, Any]:
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

    subjects = []
    for cfg in cfgs:
        bs = batch_size or cfg.get('train_dataloader', {}).get('batch_size')
        if not bs:
            raise ValueError('Cannot infer the batch size: set '
                             'train_dataloader.batch_size or --batch-size.')
        shp = tuple(int(s) for s in shape) if shape else infer_input_shape(cfg)
        if len(shp) != 4:
            raise ValueError(f'shape must be (M, T, V, C), got {shp}')
        subjects.append(
            _Subject(cfg, dev, int(bs), shp, amp, seed, bank_size))

    # -- training steps, interleaved --------------------------------------
    for _ in range(warmup):
        for s in subjects:
            s.train_step()
    train_ms: List[List[float]] = [[] for _ in subjects]
    for _ in range(iters):
        for k, s in enumerate(subjects):
            train_ms[k].append(s.train_step())

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
    out['process_max_rss_mb'] = _process_max_rss_mb()
    if len(results) > 1:
        base = results[1]
        out['baseline'] = base
        out['interleaved'] = True
        for metric, ratio in RATIO_METRICS.items():
            if metric in out and metric in base and base[metric]:
                out[ratio] = out[metric] / base[metric]
        # median of the per-iteration ratios of consecutive (paired) steps
        out['train_step_ratio_paired'] = _median(
            [a / b for a, b in zip(train_ms[0], train_ms[1])])
    return out
