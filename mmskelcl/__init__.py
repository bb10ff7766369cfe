"""mmskelcl: contrastive skeleton-based action recognition for MMAction2.

Importing this package (directly or through ``custom_imports``) first
neutralises the known defects of the pinned stack, then registers every
module of the project into MMAction2's registries.
"""
import warnings

from .compat import apply_all as _apply_stack_fixes
from .version import __version__

with warnings.catch_warnings():
    # mmcv-lite has no compiled ops; MMAction2's transformer bricks warn
    # about it when mmaction.models is first imported (by the stack fixes
    # or by the registration below) although the skeleton path never uses
    # them.
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    _apply_stack_fixes()
    from . import (datasets, engine, evaluation,  # noqa: E402,F401
                   models, visualization)

__all__ = ['__version__']
