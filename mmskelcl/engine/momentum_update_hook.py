"""Momentum (EMA) update of a self-supervised model's key encoder."""
import math

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

SCHEDULES = ('cosine', 'constant')


def momentum_at(base: float, cur_iter: int, max_iters: int,
                schedule: str = 'cosine') -> float:
    """BYOL's schedule ``1 - (1 - base) * (cos(pi * it / max) + 1) / 2``:
    ``base`` at iteration 0, 1 at ``max_iters`` (``'constant'``: ``base``).
    """
    if schedule == 'constant':
        return base
    if schedule != 'cosine':
        raise ValueError(f'schedule must be one of {SCHEDULES}, got '
                         f'{schedule!r}')
    if max_iters <= 0:
        raise ValueError(f'max_iters must be positive, got {max_iters}')
    progress = min(cur_iter / max_iters, 1.0)
    return 1 - (1 - base) * (math.cos(math.pi * progress) + 1) / 2


@HOOKS.register_module()
class MomentumUpdateHook(Hook):
    """Call ``model.momentum_update(m)`` after every optimizer step.

    ``after_train_iter`` runs after mmengine's ``train_step`` (forward,
    backward, optimizer step), with ``runner.iter`` the 0-based index of the
    iteration just done, so the first update uses ``m = momentum`` and the
    schedule reaches 1 at ``runner.max_iters`` (no 1-based drift). The
    momentum is logged as ``train/momentum``. The hook holds no state: a
    resumed run continues the schedule from the restored ``runner.iter``.

    Args:
        momentum (float): Base momentum ``M0``. Defaults to 0.996.
        schedule (str): ``'cosine'`` (to 1) or ``'constant'``.
    """

    priority = 'NORMAL'

    def __init__(self, momentum: float = 0.996,
                 schedule: str = 'cosine') -> None:
        if not 0 <= momentum <= 1:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        if schedule not in SCHEDULES:
            raise ValueError(f'schedule must be one of {SCHEDULES}, got '
                             f'{schedule!r}')
        self.momentum = momentum
        self.schedule = schedule

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if not callable(getattr(model, 'momentum_update', None)):
            raise TypeError(f'MomentumUpdateHook needs a model with '
                            f'momentum_update(); {type(model).__name__} has '
                            'none: remove the hook or use e.g. SkeAttnCLR')

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        m = momentum_at(self.momentum, runner.iter, runner.max_iters,
                        self.schedule)
        self._model(runner).momentum_update(m)
        runner.message_hub.update_scalar('train/momentum', m)
