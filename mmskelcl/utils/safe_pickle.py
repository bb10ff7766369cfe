"""Restricted unpickling of data pickles (annotations, scores, boxes, caches).

A plain :func:`pickle.load` runs whatever a file contains. The formats this
project reads (PySKL / MMAction2 annotation pickles, score dumps, box files,
converter caches) need nothing but builtin containers, numpy arrays and
scalars, and (MMAction2 ``DumpResults``) tensors. :func:`safe_load` allows
exactly that:

* every global resolves to a vetted stand-in (never the real ``numpy.ndarray``
  or ``numpy.dtype``, which a file could call with a forged buffer);
* numpy dtypes are rebuilt from a fixed recipe and only numeric or boolean
  ones (and, in data pickles, fixed-width strings) are accepted (object,
  void, structured and sub-array dtypes, and dtype states that set flags
  or fields, are refused);
* tensors are rebuilt with a nested ``weights_only`` load, never torch's
  default ``torch.load(weights_only=False)``.

The numpy stand-ins are shared with the checkpoint loader
(:mod:`mmskelcl.compat.checkpoint`). A trusted legacy pickle with other
content can be opened with ``allow_unsafe=True`` or the environment variable
``MMSKELCL_UNSAFE_PICKLE=1``.
"""
import _compat_pickle
import contextvars
import io
import math
import os
import pickle
from typing import Any, Callable, Dict, Optional

import numpy as np

UNSAFE_ENV = 'MMSKELCL_UNSAFE_PICKLE'
NUMERIC_KINDS = 'biufc'  # bool, signed, unsigned, float, complex
# data pickles may also hold fixed-width strings (no pointers inside)
DATA_KINDS = NUMERIC_KINDS + 'SU'
_KINDS = contextvars.ContextVar('mmskelcl_dtype_kinds', default=NUMERIC_KINDS)
try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray


class Pending:
    """An object the unpickler builds in two steps; :func:`resolve` swaps it
    for its final value after the load."""
    __slots__ = ()

    def final(self) -> Any:
        raise pickle.UnpicklingError(
            f'{type(self).__name__} was never completed by the pickle')


def numeric_dtype(spec: Any) -> np.dtype:
    """``np.dtype(spec)`` if it is a plain numeric or boolean dtype."""
    if isinstance(spec, DTypeRecipe):
        return spec.final()  # validated when it was made
    kinds = _KINDS.get()
    if type(spec) is str and (spec, kinds) in _CHECKED:
        return _CHECKED[spec, kinds]
    if type(spec) is not str or len(spec) > 16:
        raise pickle.UnpicklingError(f'refused numpy dtype spec {spec!r}')
    try:
        dt = np.dtype(spec)
    except TypeError as e:
        raise pickle.UnpicklingError(f'bad numpy dtype {spec!r}: {e}') from e
    if (dt.kind not in kinds or dt.fields is not None
            or dt.subdtype is not None or dt.hasobject or dt.metadata):
        raise pickle.UnpicklingError(
            f'refused numpy dtype {dt!r}: only numeric and boolean dtypes'
            + (' (and strings)' if 'U' in kinds else ''))
    _CHECKED[spec, kinds] = dt
    return dt


_CHECKED: Dict[tuple, np.dtype] = {}


class DTypeRecipe(Pending):
    """What ``numpy.dtype(spec, align, copy)`` unpickles to; its BUILD state
    may only choose the byte order."""
    __slots__ = ('_dtype', )

    def __init__(self, spec: Any, align: bool = False, copy: bool = True):
        if align not in (False, True) or copy not in (False, True):
            raise pickle.UnpicklingError(f'bad dtype align flag {align!r}')
        self._dtype = numeric_dtype(spec)

    def __setstate__(self, state: Any) -> None:
        dt = self._dtype
        ok = (isinstance(state, tuple) and len(state) in (8, 9)
              and state[0] in (3, 4) and state[1] in ('<', '>', '|', '=')
              and state[2:5] == (None, None, None)
              and state[5:8] in ((-1, -1, 0), (-1, -1, dt.flags),
                                 (dt.itemsize, dt.alignment, dt.flags))
              and (len(state) == 8 or state[8] is None))
        if not ok:
            raise pickle.UnpicklingError(
                f'refused numpy dtype state {state!r} for {self._dtype!r}')
        if state[1] in '<>' and self._dtype.itemsize > 1:
            self._dtype = self._dtype.newbyteorder(state[1])

    def final(self) -> np.dtype:
        if getattr(self, '_dtype', None) is None:
            return super().final()
        return self._dtype


class ArrayRecipe(Pending):
    """What ``_reconstruct(ndarray, (0,), b'b')`` unpickles to; its BUILD
    state becomes a real array after validation."""
    __slots__ = ('_array', )

    def __init__(self):
        self._array = None

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError('refused ndarray state (expected '
                                         '(version, shape, dtype, fortran, '
                                         'data))')
        version, shape, dtype, fortran, data = state
        dt = numeric_dtype(dtype)
        if not (isinstance(shape, tuple) and all(
                type(n) is int and n >= 0 for n in shape)):
            raise pickle.UnpicklingError(f'refused ndarray shape {shape!r}')
        if not isinstance(data, (bytes, bytearray)) or \
                len(data) != math.prod(shape) * dt.itemsize:
            raise pickle.UnpicklingError(
                f'ndarray data of {len(data)} bytes does not hold '
                f'{shape} x {dt}' if isinstance(data, (bytes, bytearray))
                else 'refused ndarray data that is not bytes')
        arr = np.ndarray.__new__(np.ndarray, (0, ), np.uint8)
        arr.__setstate__((version, shape, dt, bool(fortran), data))
        self._array = arr

    def final(self) -> np.ndarray:
        if self._array is None:
            return super().final()
        return self._array


class _NDArrayName:
    """What the name ``numpy.ndarray`` resolves to: not callable."""
    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError('refused BUILD on numpy.ndarray')

    def __repr__(self) -> str:
        return '<numpy.ndarray (reconstruct only)>'


NDARRAY = _NDArrayName()


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> ArrayRecipe:
    if subtype is not NDARRAY or shape != (0, ) or \
            typecode not in (b'b', 'b'):
        raise pickle.UnpicklingError(
            'refused _reconstruct: only plain numpy arrays')
    return ArrayRecipe()


def _scalar(dtype: Any, data: Any = None) -> np.generic:
    dt = numeric_dtype(dtype)
    if not isinstance(data, bytes) or len(data) != dt.itemsize:
        raise pickle.UnpicklingError(f'refused numpy scalar data {data!r}')
    return _multiarray.scalar(dt, data)


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    dt = numeric_dtype(dtype)
    if isinstance(buf, pickle.PickleBuffer):
        buf = bytes(buf.raw())
    if not isinstance(buf, (bytes, bytearray)) or order not in ('C', 'F') \
            or not (isinstance(shape, tuple) and all(
                type(n) is int and n >= 0 for n in shape)):
        raise pickle.UnpicklingError('refused numpy _frombuffer arguments')
    return np.frombuffer(buf, dtype=dt).reshape(shape, order=order)


NUMPY_GLOBALS: Dict[str, Any] = {'numpy.ndarray': NDARRAY,
                                 'numpy.dtype': DTypeRecipe}
for _mod in ('numpy.core', 'numpy._core'):
    NUMPY_GLOBALS[f'{_mod}.multiarray._reconstruct'] = _reconstruct
    NUMPY_GLOBALS[f'{_mod}.multiarray.scalar'] = _scalar
    NUMPY_GLOBALS[f'{_mod}.numeric._frombuffer'] = _frombuffer


def resolve(obj: Any) -> Any:
    """Replace every :class:`Pending` in ``obj``'s containers by its value.

    Lists and dicts are updated in place (shared references stay shared);
    tuples and sets are rebuilt when an element changed.
    """
    memo: Dict[int, Any] = {}

    def walk(x: Any) -> Any:
        t = type(x)
        if t in (str, int, float, bool, bytes, type(None), np.ndarray):
            return x
        if isinstance(x, Pending):
            return x.final()
        if id(x) in memo:
            return memo[id(x)]
        memo[id(x)] = x
        if isinstance(x, dict):
            for k, v in list(x.items()):
                nk, nv = walk(k), walk(v)
                if nk is not k:
                    del x[k]
                if nk is not k or nv is not v:
                    x[nk] = nv
        elif t is list:
            for i, v in enumerate(x):
                nv = walk(v)
                if nv is not v:
                    x[i] = nv
        elif isinstance(x, (tuple, set, frozenset)):
            items = [walk(v) for v in x]
            if any(a is not b for a, b in zip(items, x)):
                memo[id(x)] = t(items)
        return memo[id(x)]

    try:
        return walk(obj)
    except RecursionError as e:
        raise pickle.UnpicklingError('pickle is nested too deeply') from e


class _Global:
    """A vetted global: callable, but a BUILD on it is refused."""
    __slots__ = ('fn', 'name')

    def __init__(self, fn: Callable, name: str):
        self.fn, self.name = fn, name

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError(f'refused BUILD on {self.name}')


def _storage_from_bytes(data: bytes) -> Any:
    """``torch.storage._load_from_bytes`` with ``weights_only=True``."""
    import torch
    return torch.load(io.BytesIO(data), weights_only=True)


def _empty_bytes() -> bytes:
    """``bytes()``: how protocol 2 writes ``b''`` (other bytes use
    ``_codecs.encode``)."""
    return b''


def _data_globals() -> Dict[str, Any]:
    """Every global :class:`SafeUnpickler` resolves, by dotted name."""
    import collections
    from torch._weights_only_unpickler import _get_allowed_globals
    table = dict(_get_allowed_globals())  # torch's vetted tensor globals
    table.update({'builtins.bytes': _empty_bytes,
                  'builtins.frozenset': frozenset,
                  'collections.OrderedDict': collections.OrderedDict,
                  'torch.storage._load_from_bytes': _storage_from_bytes})
    out = {k: _Global(v, k) for k, v in table.items()}
    out.update({k: v if k == 'numpy.ndarray' else _Global(v, k)
                for k, v in NUMPY_GLOBALS.items()})
    return out


class SafeUnpickler(pickle.Unpickler):
    """Resolves only the globals of :func:`_data_globals`."""
    _table: Optional[Dict[str, Any]] = None

    def find_class(self, module: str, name: str) -> Any:
        # the Python 2 names pickle's own find_class maps (protocol < 3)
        module, name = _compat_pickle.NAME_MAPPING.get((module, name),
                                                       (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if SafeUnpickler._table is None:
            SafeUnpickler._table = _data_globals()
        key = f'{module}.{name}'
        if key not in SafeUnpickler._table:
            raise pickle.UnpicklingError(f'refused global {key}')
        return SafeUnpickler._table[key]


def unsafe_allowed(allow_unsafe: Optional[bool] = None) -> bool:
    """The explicit opt-out: the argument, else ``$MMSKELCL_UNSAFE_PICKLE``."""
    if allow_unsafe is not None:
        return bool(allow_unsafe)
    return os.environ.get(UNSAFE_ENV, '0').lower() in ('1', 'true', 'yes')


def safe_load(path: str, allow_unsafe: Optional[bool] = None) -> Any:
    """Unpickle a data file, refusing anything but data (module docstring).

    Args:
        path (str): The pickle file.
        allow_unsafe (bool, optional): ``True`` runs a plain
            :func:`pickle.load` (only for files you trust). Default: the
            ``MMSKELCL_UNSAFE_PICKLE`` environment variable.

    Returns:
        Any: The unpickled object, with real numpy arrays and dtypes.

    Raises:
        pickle.UnpicklingError: Naming the file and what was refused.
    """
    with open(path, 'rb') as f:
        if unsafe_allowed(allow_unsafe):
            return pickle.load(f)
        token = _KINDS.set(DATA_KINDS)
        try:
            return resolve(SafeUnpickler(f).load())
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(
                f'{path}: {e}. Only containers, numeric numpy arrays and '
                'tensors are loaded; if you trust this file, set '
                f'{UNSAFE_ENV}=1 to load it with plain pickle') from e
        finally:
            _KINDS.reset(token)
