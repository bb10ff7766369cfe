"""mmengine 0.10.7 cannot load its own checkpoints on torch >= 2.6.

Upstream: open-mmlab/mmengine#1655 (fixed only on mmengine ``main``,
0.11.0rc0, commit 151a87ab; not in any 0.10.x release). torch 2.6 made
``weights_only=True`` the default of ``torch.load``; mmengine's Runner
stores a ``MessageHub`` state with ``HistoryBuffer`` objects holding numpy
arrays and numpy scalars in ``meta``, which the restricted unpickler refuses.

The fix keeps ``weights_only=True`` and allowlists exactly the globals that
mmengine's ``Runner.save_checkpoint`` writes: ``HistoryBuffer``, the numpy
array/scalar/dtype reconstructors, and the statistics methods a
``HistoryBuffer`` pickles with its state (``HistoryBuffer.min`` etc., which
pickle writes as ``getattr(HistoryBuffer, 'min')``). ``getattr`` itself is
*not* allowed: the name resolves to :func:`_history_buffer_getattr`, which
only returns registered ``HistoryBuffer`` statistics methods and refuses any
other object or attribute. Anything else in a checkpoint pickle (for example
a ``__reduce__`` that would run a shell command) is still refused by torch
before it can run.
"""
import pickle
from typing import Any, List

import numpy as np
import torch

SAFE_CHECKPOINT_GLOBALS: List = []
_BUILTIN_STATISTICS = ('min', 'max', 'current', 'mean')


def _numpy_globals() -> List:
    """The numpy objects a pickled ndarray or numpy scalar refers to."""
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    objs = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # dtype classes (numpy >= 1.25 pickles some dtypes by class)
    for name in ('Float64DType', 'Float32DType', 'Float16DType',
                 'Int64DType', 'Int32DType', 'BoolDType', 'UInt8DType'):
        cls = getattr(getattr(np, 'dtypes', None), name, None)
        if cls is not None:
            objs.append(cls)
    return objs


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``getattr`` while unpickling a checkpoint: resolves
    only the statistics methods of ``HistoryBuffer``."""
    from mmengine.logging.history_buffer import HistoryBuffer

    # the built-in methods are registered lazily, by the first instance
    allowed = set(_BUILTIN_STATISTICS) | set(
        HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics methods are allowed (mmskelcl.compat)')


def defect_present() -> bool:
    """Whether this torch/mmengine pair has the ``weights_only`` defect."""
    from mmengine import digit_version
    import mmengine
    torch_default_safe = digit_version(
        torch.__version__.split('+')[0]) >= digit_version('2.6.0')
    mmengine_fixed = digit_version(
        mmengine.__version__) >= digit_version('0.11.0rc0')
    return torch_default_safe and not mmengine_fixed


def apply_checkpoint_fix() -> bool:
    """Allowlist mmengine's checkpoint globals. Returns True when applied.

    Idempotent: ``torch.serialization.add_safe_globals`` keeps a set.
    """
    if not defect_present():
        return False
    from mmengine.logging.history_buffer import HistoryBuffer
    if not SAFE_CHECKPOINT_GLOBALS:
        SAFE_CHECKPOINT_GLOBALS.extend([HistoryBuffer] + _numpy_globals())
        # pickle protocol 2 (torch.save's default) names it __builtin__
        for path in ('__builtin__.getattr', 'builtins.getattr'):
            SAFE_CHECKPOINT_GLOBALS.append((_history_buffer_getattr, path))
    torch.serialization.add_safe_globals(SAFE_CHECKPOINT_GLOBALS)
    return True
