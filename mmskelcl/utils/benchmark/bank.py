"""Benchmarks of memory-bank methods: full banks for model benchmarks, and
the bank loss (sampler + InfoNCE) against a per-sample reference."""
import time
from typing import Any, Callable, Dict, Optional

import torch
import torch.nn.functional as F


def fill_banks(model: torch.nn.Module, size: int, num_classes: int,
               seed: int = 0) -> int:
    """Give every :class:`MemoryBank` of ``model`` ``size`` valid slots of
    random unit vectors with labels spread over ``num_classes`` (a bank after
    its first epoch, so the sampler does its full work).

    Returns:
        int: The number of banks filled.
    """
    from mmskelcl.models.memory import MemoryBank
    gen = torch.Generator().manual_seed(seed)
    banks = [m for m in model.modules() if isinstance(m, MemoryBank)]
    for bank in banks:
        if bank.size != size:
            bank.resize(size)
        bank.feats.copy_(
            F.normalize(torch.randn(size, bank.dim, generator=gen), dim=1))
        bank.labels.copy_(torch.randint(num_classes, (size, ), generator=gen))
        bank.valid.fill_(True)
    return len(banks)


def _time(fn: Callable[[], Any], iters: int, warmup: int,
          device: torch.device) -> float:
    """Median wall-clock milliseconds of ``fn``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def benchmark_bank_loss(reference: Optional[Callable] = None,
                        batch_size: int = 64,
                        dim: int = 256,
                        bank_size: int = 40091,
                        num_classes: int = 60,
                        num_pos: int = 128,
                        num_neg: int = 512,
                        pos_strategy: str = 'hard',
                        neg_strategy: str = 'R+CA',
                        temperature: float = 0.8,
                        iters: int = 10,
                        reference_iters: int = 3,
                        device: str = 'cpu',
                        seed: int = 0) -> Dict[str, Any]:
    """Forward + backward time of the batched bank loss, and of a per-sample
    reference implementation (``reference(z, bank_feats, bank_labels,
    bank_valid, labels, num_pos, num_neg, pos_strategy, neg_strategy,
    temperature)``) in the same run, with their ratio.

    The two are timed on identical inputs: anchor embeddings with gradient,
    a full bank with labels spread over ``num_classes``.
    """
    from mmskelcl.models.losses import SampledInfoNCELoss
    from mmskelcl.models.memory import ContrastiveSampler
    dev = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    bank = F.normalize(torch.randn(bank_size, dim, generator=gen), dim=1)
    bank_labels = torch.randint(num_classes, (bank_size, ), generator=gen)
    valid = torch.ones(bank_size, dtype=torch.bool)
    labels = torch.randint(num_classes, (batch_size, ), generator=gen)
    z0 = torch.randn(batch_size, dim, generator=gen)
    bank, bank_labels, valid, labels, z0 = (t.to(dev) for t in (
        bank, bank_labels, valid, labels, z0))
    sampler = ContrastiveSampler(num_pos=num_pos, num_neg=num_neg,
                                 pos_strategy=pos_strategy,
                                 neg_strategy=neg_strategy)
    loss_fn = SampledInfoNCELoss(temperature=temperature)

    def batched():  # as GraphContrastHead does it
        z = F.normalize(z0.clone().requires_grad_(), dim=1)
        sim = z @ bank.t()
        loss_fn(sim, sampler(sim, labels, bank_labels, valid)).backward()

    out: Dict[str, Any] = dict(
        batch_size=batch_size, dim=dim, bank_size=bank_size,
        num_classes=num_classes, num_pos=num_pos, num_neg=num_neg,
        pos_strategy=pos_strategy, neg_strategy=neg_strategy,
        device=str(dev), num_threads=torch.get_num_threads(),
        batched_ms=_time(batched, iters, 2, dev))
    if reference is not None:

        def per_sample():
            z = F.normalize(z0.clone().requires_grad_(), dim=1)
            reference(z, bank, bank_labels, valid, labels, num_pos, num_neg,
                      pos_strategy, neg_strategy, temperature).backward()

        out['reference_ms'] = _time(per_sample, reference_iters, 1, dev)
        out['speedup'] = out['reference_ms'] / out['batched_ms']
    return out
