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

Modules: :mod:`.shapes` (config loading, input shape / class inference,
fake batches), :mod:`.subject` (one built model with its optimizer and
timed steps), :mod:`.memory` (peak memory measurement), :mod:`.runner`
(:func:`benchmark`), :mod:`.bank` (memory-bank benchmarks).
"""
from .runner import RATIO_METRICS, benchmark
from .shapes import (ConfigLike, Shape, infer_input_shape, infer_num_classes,
                     load_config, make_fake_batch)

__all__ = [
    'load_config', 'infer_input_shape', 'infer_num_classes', 'make_fake_batch',
    'benchmark', 'RATIO_METRICS', 'ConfigLike', 'Shape'
]
