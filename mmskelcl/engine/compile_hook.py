"""Opt-in ``torch.compile`` of the recognizer's backbone.

mmengine's own ``cfg.compile`` wraps the whole ``train_step`` (data
preprocessing, losses, memory-bank updates, the optimizer step) in one
``torch.compile``; on this stack (torch 2.13, mmengine 0.10.7) tracing that
fails in the backward pass, and it leaves validation and testing eager.
The backbone is where the arithmetic is, and it is a plain tensor program:
this hook compiles only it, in place (:meth:`torch.nn.Module.compile`), so
parameter names, checkpoints and every other part of the model are
unchanged and training, validation and testing all use the compiled
backbone. ``tools/train.py --compile`` and ``tools/test.py`` configs add it
as ``custom_hooks = [dict(type='CompileBackboneHook')]``.
"""
from typing import Optional

from mmaction.registry import HOOKS
from mmengine.hooks import Hook


def compile_backbone(model, **kwargs) -> None:
    """Compile ``model.backbone`` in place (``model`` may be wrapped in
    DDP or another wrapper with ``.module``)."""
    inner = getattr(model, 'module', model)
    backbone = getattr(inner, 'backbone', None)
    if backbone is None:
        raise ValueError(f'{type(inner).__name__} has no backbone to '
                         'compile (CompileBackboneHook)')
    backbone.compile(**kwargs)


@HOOKS.register_module()
class CompileBackboneHook(Hook):
    """``model.backbone.compile(**compile_cfg)`` before the run.

    Args:
        backend (str): ``torch.compile`` backend. Defaults to
            ``'inductor'``.
        mode (str, optional): ``torch.compile`` mode (``'max-autotune'``,
            ``'reduce-overhead'``, ...). Defaults to None.
        dynamic (bool, optional): ``torch.compile`` ``dynamic``. Defaults
            to None (PyTorch's automatic dynamic shapes).
    """

    priority = 'VERY_HIGH'

    def __init__(self, backend: str = 'inductor', mode: Optional[str] = None,
                 dynamic: Optional[bool] = None) -> None:
        self.compile_cfg = dict(backend=backend)
        if mode is not None:
            self.compile_cfg['mode'] = mode
        if dynamic is not None:
            self.compile_cfg['dynamic'] = dynamic

    def before_run(self, runner) -> None:
        compile_backbone(runner.model, **self.compile_cfg)
