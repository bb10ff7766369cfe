"""numpy stand-ins of the restricted unpickler (:mod:`mmskelcl.utils.
safe_pickle`), shared by data pickles and checkpoints.

A file never reaches the real ``numpy.ndarray`` / ``numpy.dtype`` (which a
pickle could call with a forged buffer): dtypes are rebuilt from a fixed
recipe and only numeric or boolean ones (and, in data pickles, fixed-width
strings with valid code points) are accepted; arrays are built from a
validated ``(shape, dtype, data)`` state whose data holds exactly the array.
Objects built in two steps (REDUCE, then BUILD) are :class:`Pending` until
:func:`resolve` swaps them for their values after the load.
"""
import contextvars
import math
import pickle
from typing import Any, Dict

import numpy as np

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
        if self._array is not None:
            raise pickle.UnpicklingError('refused a second ndarray BUILD')
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
        self._array = _strings_valid(arr)

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
    if dt.kind == 'U':
        _strings_valid(np.frombuffer(data, dt))
    return _multiarray.scalar(dt, data)


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """Protocol 5 arrays: the buffer is in-band bytes of the file, never a
    sized ``bytearray(N)`` call (refused), and holds exactly the array."""
    dt = numeric_dtype(dtype)
    if type(buf) not in (bytes, bytearray) or order not in ('C', 'F') \
            or not (isinstance(shape, tuple) and all(
                type(n) is int and n >= 0 for n in shape)) or \
            len(buf) != math.prod(shape) * dt.itemsize:
        raise pickle.UnpicklingError('refused numpy _frombuffer arguments')
    return _strings_valid(
        np.frombuffer(buf, dtype=dt).reshape(shape, order=order))


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


def _strings_valid(arr: np.ndarray) -> np.ndarray:
    """``arr`` if its ``U`` strings hold only valid code points (numpy
    stores UCS-4; a larger value breaks ``repr`` and ``str``)."""
    if arr.dtype.kind == 'U' and arr.size:
        codes = np.frombuffer(arr.tobytes(), np.dtype('u4').newbyteorder(
            arr.dtype.byteorder))
        if codes.size and int(codes.max()) > 0x10FFFF:
            raise pickle.UnpicklingError(
                f'refused string array with invalid code point '
                f'{int(codes.max()):#x}')
    return arr
