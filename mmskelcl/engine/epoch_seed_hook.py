"""``EpochSeedHook``: every training epoch draws from its own seed, so that a
run resumed from a checkpoint draws the same random numbers as one that was
never interrupted.

mmengine seeds once, at start-up, and a checkpoint does not hold the random
state: a run resumed at epoch ``e`` would augment epoch ``e`` with the draws
of epoch 1. Before every epoch this hook seeds Python, NumPy and torch of
the main process with ``seed + 100003 * epoch`` and gives the loader's new
workers (``persistent_workers=False``) the same per-epoch seed. The
experiment runner (``tools/experiment.py``) adds it through
``--cfg-options default_hooks.epoch_seed.type=EpochSeedHook``; a plain
``tools/train.py`` run keeps mmengine's seeding.

A run that starts from scratch also writes the fingerprint of its initial
backbone and classifier weights to ``<work dir>/initial_weights.json``
(:func:`initial_fingerprint`), so that a paired comparison can check that
a method and its baseline of the same seed really started from the same
weights, also when their runs were made by different versions of the code.
"""
import hashlib
import json
import os.path as osp
from functools import partial
from typing import Mapping

import torch

from mmengine.dataset import worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.utils import set_random_seed

from mmaction.registry import HOOKS

EPOCH_STRIDE = 100003
INITIAL_WEIGHTS = 'initial_weights.json'
SHARED_PREFIXES = ('backbone.', 'cls_head.')


def initial_fingerprint(state: Mapping[str, torch.Tensor]) -> str:
    """sha256 (16 hex) of the entries of ``state`` that a method shares with
    its baseline (``backbone.*``, ``cls_head.*``): names, dtypes, shapes and
    values."""
    h = hashlib.sha256()
    for key in sorted(k for k in state if k.startswith(SHARED_PREFIXES)):
        t = state[key].detach().cpu().contiguous()
        h.update(f'{key}|{t.dtype}|{tuple(t.shape)}|'.encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes()
                 if t.numel() else b'')
    return h.hexdigest()[:16]


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seed every training epoch from ``(runner.seed, epoch)``."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Fingerprint the initial weights of a run started from scratch
        (a resumed run keeps the file of its first start)."""
        if runner.iter > 0 or get_rank() != 0:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        with open(osp.join(runner.work_dir, INITIAL_WEIGHTS), 'w') as f:
            json.dump(dict(fingerprint=initial_fingerprint(
                model.state_dict()), seed=runner.seed), f)

    def before_train_epoch(self, runner) -> None:
        seed = (int(runner.seed) + EPOCH_STRIDE * runner.epoch) % 2**31
        set_random_seed(seed)
        loader = runner.train_loop.dataloader
        if loader.num_workers > 0:
            if loader.persistent_workers:
                raise ValueError(
                    'EpochSeedHook: train_dataloader.persistent_workers must '
                    'be False (persistent workers keep their first seed)')
            loader.worker_init_fn = partial(
                worker_init_fn, num_workers=loader.num_workers,
                rank=get_rank(), seed=seed)
