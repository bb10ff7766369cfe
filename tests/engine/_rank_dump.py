"""Test-only hooks for ``test_torchrun_cpu.py``, imported by the trained
processes through ``custom_imports`` (mmengine saves checkpoints on rank 0
only, so each rank writes its own state here)."""
import os.path as osp
from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import HOOKS
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class RankStateDumpHook(Hook):
    """After training, every rank saves ``rank{r}.pth``: the unwrapped
    model's full ``state_dict`` (weights and every buffer: banks,
    prototypes, BN statistics) before training, after every step and after
    training, and the world size, model wrapper and iteration count it ran
    with.

    Args:
        out_dir (str): Folder of the dumps.
    """

    priority = 'LOWEST'  # after SyncBuffersHook and the checkpoint

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    @staticmethod
    def _state(runner) -> dict:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        return {k: v.detach().cpu().clone()
                for k, v in model.state_dict().items()}

    def before_train(self, runner) -> None:
        self._init = self._state(runner)
        self._steps = []

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        self._steps.append(self._state(runner))

    def after_train(self, runner) -> None:
        rank, world = get_dist_info()
        torch.save(dict(state=self._state(runner), init=self._init,
                        steps=self._steps,
                        world_size=world,
                        wrapper=type(runner.model).__name__,
                        iters=runner.iter),
                   osp.join(self.out_dir, f'rank{rank}.pth'))


@HOOKS.register_module()
class FrozenBatchNormHook(Hook):
    """Makes the model per-sample while it trains: the forward pass of a
    clip does not depend on its batch-mates.

    Before training, the backbone's BatchNorm statistics are set to their
    average over the *whole* training set (every rank computes the same
    values, in the same order), then every BatchNorm of the model is kept in
    eval mode. With BN in train mode each rank would normalise with its own
    batch's statistics, a documented difference of data-parallel training
    without SyncBN (which does not run on CPU); with the initial statistics
    (mean 0, variance 1) the un-normalised 10-block network overflows.

    Args:
        batch_size (int): Clips per calibration forward.
    """

    priority = 'LOW'

    def __init__(self, batch_size: int = 6) -> None:
        self.batch_size = batch_size

    @staticmethod
    def _bns(module: nn.Module) -> list:
        return [m for m in module.modules()
                if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    @torch.no_grad()
    def before_train(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        loader = runner.train_dataloader
        dataset = loader.dataset
        bns = self._bns(model.backbone)
        momenta = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches
        model.train()
        for start in range(0, len(dataset), self.batch_size):
            stop = min(start + self.batch_size, len(dataset))
            batch = loader.collate_fn([dataset[i] for i in range(start, stop)])
            data = model.data_preprocessor(batch, training=False)
            model.extract_feat(data['inputs'], stage='backbone')
        for m, momentum in zip(bns, momenta):
            m.momentum = momentum

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        for m in self._bns(runner.model):
            m.eval()
