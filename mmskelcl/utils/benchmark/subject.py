"""One benchmarked model: built from its config with its optimizer wrapper,
a fake batch, and timed training / inference steps."""
import copy
import itertools
import time
from typing import Any, Callable, List, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

from .bank import fill_banks
from .memory import peak_memory_mb, resident_bytes, sync
from .shapes import Shape, _fresh, infer_num_classes, make_fake_batch


class _Subject:
    """A built model, its optimizer wrapper and batches for one config."""

    def __init__(self, cfg: Config, device: torch.device, batch_size: int,
                 shape: Shape, amp: bool, seed: int,
                 bank_size: int = 0,
                 compile: Union[bool, str] = False) -> None:
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
        if fill_banks(self.model, max(bank_size, batch_size),
                      self.num_classes, seed):
            self.notes.append(f'memory banks filled with '
                              f'{max(bank_size, batch_size)} random entries')
        self.compiled = (compile if isinstance(compile, str) else
                         'inductor' if compile else False)
        if self.compiled:  # as CompileBackboneHook does it
            from mmskelcl.engine.compile_hook import compile_backbone
            compile_backbone(self.model, backend=self.compiled)
            self.notes.append(f'backbone compiled (torch.compile, backend '
                              f'{self.compiled}; compilation happens in the '
                              'warm-up)')
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
        sync(self.device)
        start = time.perf_counter()
        self.model.train_step(data, self.optim_wrapper)
        self.after_train_step()
        sync(self.device)
        return (time.perf_counter() - start) * 1e3

    def after_train_step(self) -> None:
        """Work a hook of the training loop does after every step (timed
        with the step); nothing here."""

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
        sync(self.device)
        start = time.perf_counter()
        with torch.no_grad(), self._autocast():
            self.model.test_step(data)
        sync(self.device)
        return (time.perf_counter() - start) * 1e3

    # -- memory ---------------------------------------------------------

    def _resident_bytes(self) -> int:
        """Bytes of this model's tensors alive between steps.

        Parameters, gradients, buffers, optimizer state and the input batch
        that live on the benchmark device.
        """
        params = list(self.model.parameters())
        states = self.optim_wrapper.optimizer.state.values()
        return resident_bytes(
            itertools.chain(
                itertools.chain.from_iterable((p, p.grad) for p in params),
                self.model.buffers(),
                itertools.chain.from_iterable(s.values() for s in states),
                self.batch['inputs']), self.device)

    def peak_memory_mb(self, step: Callable[[], Any]) -> Tuple[float, str]:
        """Peak memory of one call of ``step`` in MiB (see
        :func:`.memory.peak_memory_mb`).

        Returns:
            tuple[float, str]: The peak and the name of the method used.
        """
        return peak_memory_mb(step, self.device, self._resident_bytes)
