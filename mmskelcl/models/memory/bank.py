"""Instance memory bank of embeddings and labels (SkeletonGCL, CACL, CSRE)."""
from typing import Optional

import torch
import torch.distributed as dist
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...utils.dist import all_gather_cat, is_distributed

BANK_MODES = ('index', 'fifo')


@MODELS.register_module()
class MemoryBank(BaseModule):
    """A bank of L2-normalised embeddings with their class labels.

    Two update rules:

    * ``'index'`` (SkeletonGCL/CACL released code): one slot per training
      sample; a sample's embedding overwrites slot ``sample_idx``. The bank
      then holds the latest embedding of every sample seen this epoch.
    * ``'fifo'`` (CACL paper text, MoCo-like): a ring buffer; each batch
      overwrites the oldest entries. Labels are optional: a self-supervised
      method (MoCo's queue, SkeAttnCLR) updates without them and the
      entries carry label ``-1``.

    State (``feats``, ``labels``, ``valid``, ``ptr``) lives in registered
    buffers: saved in checkpoints, restored on resume, moved with the
    model. Under distributed training each update first gathers the
    embeddings, labels and indices of every rank, so all ranks hold the same
    bank.

    Args:
        dim (int): Embedding dimension.
        size (int, optional): Number of slots. ``None`` leaves the bank
            empty until :meth:`resize` (``MemoryBankHook`` sizes it to the
            training set, the original length under ``RepeatDataset``).
            In ``'index'`` mode it must cover every ``sample_idx``.
        mode (str): ``'index'`` or ``'fifo'``.
        init_cfg (dict, optional): Unused (no parameters).
    """

    def __init__(self,
                 dim: int = 256,
                 size: Optional[int] = None,
                 mode: str = 'index',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in BANK_MODES:
            raise ValueError(f'mode must be one of {BANK_MODES}, got {mode!r}')
        self.dim = dim
        self.mode = mode
        self.register_buffer('feats', torch.zeros(0, dim))
        self.register_buffer('labels', torch.zeros(0, dtype=torch.long))
        self.register_buffer('valid', torch.zeros(0, dtype=torch.bool))
        self.register_buffer('ptr', torch.zeros(1, dtype=torch.long))
        if size is not None:
            self.resize(size)

    @property
    def size(self) -> int:
        return self.feats.shape[0]

    def resize(self, size: int) -> None:
        """Empty the bank and give it ``size`` slots."""
        if size <= 0:
            raise ValueError(f'bank size must be positive, got {size}')
        device = self.feats.device
        self.feats = torch.zeros(size, self.dim, device=device)
        self.labels = torch.full((size, ), -1, dtype=torch.long,
                                 device=device)
        self.valid = torch.zeros(size, dtype=torch.bool, device=device)
        self.ptr = torch.zeros(1, dtype=torch.long, device=device)

    @torch.no_grad()
    def update(self, feats: torch.Tensor,
               labels: Optional[torch.Tensor] = None,
               indices: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Write a batch (gathered from every rank) into the bank.

        Args:
            feats (Tensor): ``(B, dim)`` embeddings (stored detached).
            labels (Tensor, optional): ``(B,)`` class labels; ``None``
                stores ``-1`` (label-free queue).
            indices (Tensor, optional): ``(B,)`` dataset indices (required
                in ``'index'`` mode).

        Returns:
            Tensor: The slots written for *this rank's* batch, ``(B,)``, so
            callers can recognise an anchor's own entry.
        """
        if self.size == 0:
            raise RuntimeError(
                'MemoryBank has no slots: give `size` or add '
                "dict(type='MemoryBankHook') to custom_hooks")
        n_local = feats.shape[0]
        rank_offset = self._rank_offset(n_local, feats.device)
        if labels is None:
            labels = torch.full((n_local, ), -1, dtype=torch.long,
                                device=feats.device)
        elif labels.shape[0] != n_local:
            raise ValueError(f'{labels.shape[0]} labels for {n_local} '
                             'embeddings')
        feats = all_gather_cat(feats.detach().to(self.feats.dtype))
        labels = all_gather_cat(labels.long())
        if self.mode == 'index':
            if indices is None:
                raise ValueError("'index' bank mode needs sample indices")
            slots = all_gather_cat(indices.long())
            if int(slots.max()) >= self.size or int(slots.min()) < 0:
                raise IndexError(
                    f'sample_idx {int(slots.max())} outside the bank of '
                    f'{self.size} slots: size the bank to the training set '
                    '(MemoryBankHook does) or use mode="fifo"')
        else:
            n = feats.shape[0]
            if n > self.size:
                raise ValueError(f'batch of {n} larger than the FIFO bank '
                                 f'({self.size})')
            start = int(self.ptr)
            slots = (torch.arange(n, device=feats.device) + start) % self.size
            self.ptr.fill_((start + n) % self.size)
        self.feats[slots] = feats
        self.labels[slots] = labels
        self.valid[slots] = True
        return slots[rank_offset:rank_offset + n_local]

    @staticmethod
    def _rank_offset(n_local: int, device: torch.device) -> int:
        """Where this rank's rows start in the gathered batch."""
        if not is_distributed():
            return 0
        counts = all_gather_cat(torch.tensor([n_local], device=device))
        return int(counts[:dist.get_rank()].sum())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # adopt the saved number of slots (a bank sized at run time)
        key = prefix + 'feats'
        if key in state_dict and state_dict[key].shape[0] != self.size:
            self.resize(state_dict[key].shape[0])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f'dim={self.dim}, size={self.size}, mode={self.mode!r}'
