"""Two CPU processes in a gloo process group, for the distributed unit
tests: ``run_ranks`` spawns ``worker(rank, world, init_file, out_dir)``
on every rank and returns what each rank saved as ``rank<r>.pth``."""
import time
from pathlib import Path
from typing import Callable, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

needs_gloo = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(),
    reason='needs torch.distributed with gloo')


def run_ranks(worker: Callable, tmp: Path, world: int = 2,
              timeout: float = 120) -> List[dict]:
    """Run ``worker`` on ``world`` spawned ranks (fails the test after
    ``timeout`` seconds) and load each rank's ``rank<r>.pth``."""
    ctx = mp.start_processes(worker,
                             args=(world, str(tmp / 'pg_init'), str(tmp)),
                             nprocs=world, join=False, start_method='spawn')
    deadline = time.time() + timeout
    try:
        while not ctx.join(timeout=1):
            if time.time() > deadline:
                pytest.fail('distributed workers timed out')
    finally:
        for p in ctx.processes:
            if p.is_alive():
                p.terminate()
    return [torch.load(tmp / f'rank{r}.pth', weights_only=True)
            for r in range(world)]
