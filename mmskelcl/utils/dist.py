"""Distributed helpers shared by every stateful component (banks,
prototypes, queues). Each degrades to a no-op when not distributed."""
from typing import List

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """Whether a default process group is initialised with > 1 rank."""
    return (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1)


def world_size() -> int:
    """Number of ranks (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


@torch.no_grad()
def all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` (dim 0) from every rank, in rank order.

    Ranks may hold different numbers of rows (the last batch of an epoch);
    rows are padded for the collective and trimmed afterwards. No gradient
    flows through the result.
    """
    if not is_distributed():
        return tensor.detach()
    tensor = tensor.detach().contiguous()
    world = dist.get_world_size()
    n = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(n) for _ in range(world)]
    dist.all_gather(sizes, n)
    sizes = [int(s.item()) for s in sizes]
    longest = max(sizes)
    if tensor.shape[0] < longest:
        pad = tensor.new_zeros((longest - tensor.shape[0], ) +
                               tuple(tensor.shape[1:]))
        tensor = torch.cat([tensor, pad])
    out: List[torch.Tensor] = [torch.empty_like(tensor) for _ in range(world)]
    dist.all_gather(out, tensor)
    return torch.cat([o[:s] for o, s in zip(out, sizes)])


@torch.no_grad()
def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Average ``tensor`` over ranks in place (no-op when single process)."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor.div_(dist.get_world_size())
    return tensor
