"""The training loss as a validation metric, for reduce-on-plateau
schedules that follow the training loss.

mmengine's ``ReduceOnPlateauLR`` steps only after a validation epoch, on
a key of the validation metrics (``ParamSchedulerHook.after_val_epoch``).
SkeAttnCLR's paper finetunes with PyTorch's plateau schedule that "adjusts
when the loss does not converge", i.e. on the training loss, which is not
among the validation metrics. This hook adds it: after every validation
run inside training it puts the mean of ``train/<key>`` over the
iterations trained since the previous validation into the metrics as
``name``, before the scheduler hook reads them::

    custom_hooks = [dict(type='TrainLossMetricHook')]
    param_scheduler = [dict(type='ReduceOnPlateauLR', monitor='train_loss',
                            rule='less', factor=0.1, patience=10)]
    train_cfg = dict(val_interval=1)  # one scheduler step per epoch
"""
from typing import Dict, Optional

import numpy as np
from mmaction.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class TrainLossMetricHook(Hook):
    """Add the mean training loss since the previous validation to the
    validation metrics.

    Runs at priority ``'NORMAL'``, before ``ParamSchedulerHook``
    (``'LOW'``), so the scheduler sees the key. A validation run outside
    training (``tools/test.py``, ``runner.val()``) is left untouched.

    Args:
        key (str): Logged training scalar, read as ``train/<key>``
            (the total loss ``mmengine`` logs is ``'loss'``).
        name (str): Metric name the scheduler monitors.
    """

    priority = 'NORMAL'

    def __init__(self, key: str = 'loss', name: str = 'train_loss') -> None:
        self.key, self.name = key, name
        self._last_iter: Optional[int] = None
        self._value: Optional[float] = None

    def before_train(self, runner) -> None:
        self._last_iter = runner.iter  # resumed runs start here

    def after_val_epoch(self, runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        if metrics is None or self._last_iter is None:
            return
        new = runner.iter - self._last_iter
        if new > 0:
            buffer = runner.message_hub.get_scalar(f'train/{self.key}')
            values = np.asarray(buffer.data[0], dtype=np.float64)
            if values.size == 0:
                raise KeyError(
                    f'TrainLossMetricHook: no train/{self.key} was logged; '
                    'set key to a loss the model returns')
            self._value = float(values[-new:].mean())
            self._last_iter = runner.iter
        if self._value is not None:
            metrics[self.name] = self._value
