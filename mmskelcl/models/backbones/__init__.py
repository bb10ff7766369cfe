"""Backbones. Every module of this package is imported (so registered) here;
an encoder added as ``backbones/<name>.py`` needs no edit of this file."""
import importlib
import pkgutil

from .ctrgcn import CTRGCN
from .tapped_gcn import AAGCNTaps, BlockTapMixin, STGCNTaps

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f'{__name__}.{_mod.name}')

__all__ = ['CTRGCN', 'AAGCNTaps', 'BlockTapMixin', 'STGCNTaps']
