"""mmengine 0.10.7 cannot start distributed training without CUDA.

Upstream: ``mmengine.dist.utils._init_dist_pytorch`` (and the slurm and mpi
variants) call ``torch.cuda.set_device(local_rank)`` unconditionally, so
``torchrun ... tools/train.py CONFIG --launcher pytorch`` raises on a CPU
machine before any of our code runs. Two more CUDA assumptions follow it:
``env_cfg.dist_cfg.backend`` is ``'nccl'`` in every MMAction2-style runtime
(NCCL needs GPUs), and ``Runner.wrap_model`` passes
``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel``, which DDP
refuses for a module on the CPU.

The fix is not applied on import (it changes a config and starts a process
group): :func:`setup_cpu_distributed` is called by ``tools/train.py`` before
the Runner is built, and does nothing unless a launcher is used **and** CUDA
is unavailable, so GPU runs are untouched. On a CPU machine it

1. replaces the backend ``'nccl'`` by ``'gloo'`` (``'gloo'`` and ``'mpi'``
   are kept; any other backend raises);
2. sets the multiprocessing options of ``env_cfg.mp_cfg`` and then calls
   mmengine's own ``init_dist`` (so torchrun's, slurm's and MPI's
   environment variables are read exactly as mmengine reads them) with
   ``torch.cuda.set_device`` replaced by a no-op *for the duration of that
   call only*; the Runner then finds the process group initialised and does
   not initialise it again;
3. builds the model wrapper with ``device_ids=None`` (the DDP contract for
   CPU modules), keeping mmengine's defaults otherwise
   (``broadcast_buffers=False``, the config's ``find_unused_parameters``).
"""
import contextlib
from typing import Iterator

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

#: Backends that run without CUDA.
CPU_BACKENDS = ('gloo', 'mpi')


def cpu_distributed_needed(launcher: str) -> bool:
    """Whether ``launcher`` asks for distributed training on a machine
    without CUDA (the case mmengine 0.10.7 cannot start)."""
    return launcher not in (None, 'none') and not torch.cuda.is_available()


@contextlib.contextmanager
def _no_cuda_set_device() -> Iterator[None]:
    """Make ``torch.cuda.set_device`` a no-op inside the block.

    Only used where CUDA is unavailable, where the real call would raise.
    """
    original = torch.cuda.set_device

    def _skip(device) -> None:  # noqa: ANN001 (torch's own signature)
        return None

    torch.cuda.set_device = _skip
    try:
        yield
    finally:
        torch.cuda.set_device = original


def cpu_dist_backend(backend: str) -> str:
    """The backend to use without CUDA: ``'nccl'`` becomes ``'gloo'``.

    Raises:
        ValueError: For a backend that needs an accelerator (not
            ``'nccl'``, ``'gloo'`` or ``'mpi'``).
    """
    if backend == 'nccl':
        return 'gloo'
    if backend not in CPU_BACKENDS:
        raise ValueError(
            f'dist_cfg.backend={backend!r} cannot run without CUDA; use one '
            f'of {CPU_BACKENDS} (nccl is replaced by gloo automatically)')
    return backend


def setup_cpu_distributed(cfg: Config) -> bool:
    """Start distributed training on CPU where mmengine cannot.

    Call after the command-line flags are merged into ``cfg`` (it reads
    ``cfg.launcher``) and before the Runner is built. Does nothing (returns
    ``False``) without a launcher or when CUDA is available.

    Args:
        cfg (Config): The full Runner config; ``env_cfg.dist_cfg.backend``
            and ``model_wrapper_cfg`` are updated in place.

    Returns:
        bool: Whether the CPU path was taken.
    """
    launcher = cfg.get('launcher', 'none')
    if not cpu_distributed_needed(launcher):
        return False
    from mmaction.registry import MODEL_WRAPPERS
    from mmengine.dist import init_dist
    from mmengine.utils.dl_utils import set_multi_processing

    env_cfg = cfg.get('env_cfg') or {}
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    requested = dist_cfg.get('backend', 'nccl')
    dist_cfg['backend'] = cpu_dist_backend(requested)
    cfg.env_cfg = dict(env_cfg, dist_cfg=dist_cfg)

    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:
        wrapper = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper = dict(wrapper)
    wrapper_type = wrapper.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(
            wrapper_type, torch.nn.parallel.DistributedDataParallel):
        if wrapper.get('device_ids') is not None:
            raise ValueError(
                'model_wrapper_cfg.device_ids must be None without CUDA '
                f'(DDP of a CPU module), got {wrapper["device_ids"]}')
        wrapper['device_ids'] = None
    elif wrapper_type is None:
        raise KeyError(f'model_wrapper_cfg.type {wrapper.get("type")!r} is '
                       'not a registered model wrapper')
    cfg.model_wrapper_cfg = wrapper

    if not dist.is_initialized():
        set_multi_processing(**env_cfg.get('mp_cfg', {}), distributed=True)
        with _no_cuda_set_device():
            init_dist(launcher, **dist_cfg)
    elif dist.get_backend() not in CPU_BACKENDS:
        raise RuntimeError(
            f'a {dist.get_backend()} process group is initialised but CUDA '
            'is unavailable')
    print_log(
        f'CUDA is unavailable: distributed training on CPU, backend '
        f'{dist.get_backend()} (config asked {requested}), rank '
        f'{dist.get_rank()} of {dist.get_world_size()}, DDP device_ids=None '
        '(mmskelcl.compat.cpu_dist)', logger='current')
    return True
