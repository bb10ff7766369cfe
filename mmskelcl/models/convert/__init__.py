"""Converters from released checkpoints to this project's keys.

Each encoder registers a function ``state_dict -> state_dict`` under its
architecture name with :func:`register_converter` in its own module of this
package (imported automatically); ``tools/convert_weights.py --arch NAME``
applies it.
"""
import importlib
import pkgutil
from typing import Callable, Dict

CONVERTERS: Dict[str, Callable[[dict], dict]] = {}


def register_converter(arch: str):
    """Decorator: register ``fn(released_state_dict) -> our_state_dict``
    (keys of a full recognizer: ``backbone.*``, ``cls_head.fc.*``)."""

    def wrap(fn):
        if arch in CONVERTERS:
            raise KeyError(f'converter {arch!r} registered twice')
        CONVERTERS[arch] = fn
        return fn

    return wrap


def convert_state_dict(arch: str, state_dict: dict) -> dict:
    """Convert a released ``state_dict`` of architecture ``arch``."""
    if arch not in CONVERTERS:
        raise KeyError(f'no converter for {arch!r}; known: '
                       f'{sorted(CONVERTERS)}')
    return CONVERTERS[arch](state_dict)


for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f'{__name__}.{_mod.name}')

__all__ = ['CONVERTERS', 'register_converter', 'convert_state_dict']
