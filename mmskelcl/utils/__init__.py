"""Utilities: demo data generation and benchmarking.

Submodules are imported lazily so that ``import mmskelcl.utils`` stays
cheap (``benchmark`` needs torch and mmengine, ``demo_data`` only numpy).
"""
import importlib
from typing import Any

_LAZY = {
    'generate_demo_dataset': 'demo_data',
    'generate_demo_annotations': 'demo_data',
    'evaluate_handcrafted_baseline': 'demo_data',
    'infer_input_shape': 'benchmark',
    'make_fake_batch': 'benchmark',
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f'.{_LAZY[name]}', __name__)
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
