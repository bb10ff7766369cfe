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
"""
from functools import partial

from mmengine.dataset import worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner.utils import set_random_seed

from mmaction.registry import HOOKS

EPOCH_STRIDE = 100003


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seed every training epoch from ``(runner.seed, epoch)``."""

    priority = 'VERY_HIGH'

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
