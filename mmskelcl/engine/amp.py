"""bfloat16 mixed precision that also builds without an accelerator.

mmengine's :class:`~mmengine.optim.AmpOptimWrapper` refuses to build
without CUDA/NPU/MLU/MUSA, and mmengine's CPU autocast supports bfloat16
only. bfloat16 has float32's exponent range, so it needs no loss scaling:
:class:`BF16AmpOptimWrapper` is ``AmpOptimWrapper`` with the accelerator
check dropped, the dtype fixed to bfloat16 and a disabled gradient scaler.
``tools/train.py --amp`` uses it for ``--amp-dtype bfloat16`` (the default
when CUDA is unavailable).
"""
from typing import Union

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.optim import AmpOptimWrapper, OptimWrapper


@OPTIM_WRAPPERS.register_module()
class BF16AmpOptimWrapper(AmpOptimWrapper):
    """bfloat16 autocast training on the current device (CPU or GPU).

    ``optim_context`` is :class:`AmpOptimWrapper`'s (mmengine's
    ``autocast`` on the current device); ``backward`` / ``step`` go through
    a disabled :class:`torch.amp.GradScaler`, i.e. plain ``loss.backward()``
    and ``optimizer.step()`` (gradient clipping as in
    :class:`OptimWrapper`). Checkpoints hold no scaler state.

    Args:
        dtype (str | torch.dtype): Autocast dtype; only ``'bfloat16'``.
        loss_scale: Accepted for config compatibility with
            :class:`AmpOptimWrapper` and ignored (bfloat16 needs none).
        **kwargs: :class:`OptimWrapper` arguments (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'BF16AmpOptimWrapper: dtype must be bfloat16, got {dtype!r} '
                '(float16 needs loss scaling and a GPU: AmpOptimWrapper, '
                'tools/train.py --amp --amp-dtype float16)')
        OptimWrapper.__init__(self, **kwargs)  # no accelerator check
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
