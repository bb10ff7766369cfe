"""Peak memory of one benchmarked step (see the package docstring).

The peak is "what ``torch.cuda.max_memory_allocated`` would say if this
model were alone on the device": the bytes of the model's tensors alive at
the start of the step plus the peak growth of allocated tensor memory
during the step (CUDA allocator statistics, or on CPU the torch profiler's
memory events with a sampled-RSS fallback).
"""
import gc
import os
import platform
import threading
from typing import Any, Callable, Iterable, Optional, Tuple

import torch

_MB = float(2**20)


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (no-op off CUDA)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def resident_bytes(tensors: Iterable[Optional[torch.Tensor]],
                   device: torch.device) -> int:
    """Bytes of the distinct storages of ``tensors`` on ``device``'s type.

    Non-tensors (e.g. missing gradients) and tensors on other device types
    are skipped; storages shared by several tensors are counted once.
    """
    seen = set()
    total = 0
    for t in tensors:
        if (not isinstance(t, torch.Tensor) or t.device.type != device.type):
            continue
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if key in seen:
            continue
        seen.add(key)
        total += t.untyped_storage().nbytes()
    return total


def peak_memory_mb(step: Callable[[], Any], device: torch.device,
                   resident: Callable[[], int]) -> Tuple[float, str]:
    """Peak memory of one call of ``step`` in MiB.

    Args:
        step (callable): The step to measure.
        device (torch.device): The benchmark device.
        resident (callable): Returns the bytes of the model's tensors alive
            before the step (called after garbage collection).

    Returns:
        tuple[float, str]: The peak and the name of the method used.
    """
    gc.collect()
    resident_b = resident()
    if device.type == 'cuda':
        # Other models of the run (baseline) also live on the device:
        # count this model's state plus the growth during the step.
        torch.cuda.empty_cache()
        sync(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        sync(device)
        peak = torch.cuda.max_memory_allocated(device) - before
        return (resident_b + peak) / _MB, (
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
    return (resident_b + peak) / _MB, (
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


def process_max_rss_mb() -> Optional[float]:
    """Process-wide maximum RSS (``getrusage``) in MiB; None on Windows."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / (_MB if platform.system() == 'Darwin' else 1024.0)

