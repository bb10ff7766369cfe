"""Test-only hook for ``test_skeattnclr_torchrun.py``, imported by the
trained processes through ``custom_imports``: every rank saves the model
inputs of each of its training steps, so that the test can recompute the
keys a step wrote into the SkeAttnCLR queue."""
import os.path as osp
from typing import Optional

import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class RankBatchDumpHook(Hook):
    """After training, every rank saves ``batches{r}.pth``: the list of
    its per-step model inputs, each ``(B, num_clips, M, T, V, C)`` as the
    model's ``data_preprocessor`` returns them (``training=True``), i.e. the
    tensors ``loss`` received.

    Args:
        out_dir (str): Folder of the dumps.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self._inputs = []

    @torch.no_grad()
    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        data = model.data_preprocessor(data_batch, training=True)
        self._inputs.append(data['inputs'].detach().cpu().clone())

    def after_train(self, runner) -> None:
        rank, _ = get_dist_info()
        torch.save(dict(inputs=self._inputs),
                   osp.join(self.out_dir, f'batches{rank}.pth'))
