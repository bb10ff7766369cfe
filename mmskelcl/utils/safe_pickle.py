"""Restricted unpickling of data pickles (annotations, scores, boxes, caches).

A plain :func:`pickle.load` runs whatever a file contains. The formats this
project reads (PySKL / MMAction2 annotation pickles, score dumps, box files,
converter caches) need nothing but builtin containers, numpy arrays and
scalars, and (MMAction2 ``DumpResults``) dense tensors.
:class:`RestrictedUnpickler` (also used for checkpoints by
:mod:`mmskelcl.compat.checkpoint`) is pickle's own Python unpickler with
every opcode that calls, builds or mutates re-implemented:

* every global resolves to a vetted stand-in (never the real ``numpy.ndarray``
  or ``numpy.dtype``, which a file could call with a forged buffer, and no
  sized constructor: ``bytearray(N)``, ``torch.Tensor(N)``,
  ``TypedStorage(N)`` are refused); only stand-ins are called, and each
  result is type-checked;
* BUILD may only target the validated recipes this load created (never a
  class, function or module), SETITEM/APPEND only dicts/lists it created;
* numpy dtypes are rebuilt from a fixed recipe and only numeric or boolean
  ones (and, in data pickles, fixed-width strings with valid code points)
  are accepted (object, void, structured and sub-array dtypes, and dtype
  states that set flags or fields, are refused);
* a length in the file never allocates more than the file holds;
* tensors are dense views of storages read by :mod:`mmskelcl.utils.
  safe_torch`, never through ``torch.load``.

A trusted legacy pickle with other content can be opened with
``allow_unsafe=True`` or the environment variable
``MMSKELCL_UNSAFE_PICKLE=1``.
"""
import _compat_pickle
import collections
import os
import pickle
import struct
from typing import Any, BinaryIO, Callable, Dict, Optional

import numpy as np

from mmskelcl.utils.safe_numpy import (_KINDS, DATA_KINDS, NDARRAY,  # noqa
                                       ArrayRecipe, DTypeRecipe, Pending,
                                       _frombuffer, _reconstruct, _scalar,
                                       resolve)

UNSAFE_ENV = 'MMSKELCL_UNSAFE_PICKLE'


class _Global:
    """A vetted global. Only the unpickler calls ``fn`` (REDUCE) or ``new``
    (NEWOBJ); each result must be one of ``returns``. A file can neither
    call nor BUILD anything else."""
    __slots__ = ('fn', 'name', 'returns', 'new')

    def __init__(self, fn: Optional[Callable], name: str, returns: tuple,
                 new: Optional[Callable] = None):
        self.fn, self.name, self.returns, self.new = fn, name, returns, new

    def __repr__(self) -> str:
        return f'<{self.name}>'


def _refuse(msg: str) -> None:
    raise pickle.UnpicklingError(msg)


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()``: how protocol 2 writes ``b''``."""
    if args:
        _refuse('refused builtins.bytes with arguments (a sized buffer)')
    return b''


def _latin1(text: Any, encoding: Any = 'latin1') -> bytes:
    """``_codecs.encode``: how protocol 2 writes bytes (latin-1 only)."""
    if type(text) is not str or encoding not in ('latin1', 'latin-1'):
        _refuse(f'refused _codecs.encode(..., {encoding!r})')
    return text.encode('latin1')


def _container(kind: type) -> Callable:
    def make(*args: Any) -> Any:
        if len(args) > 1 or (args and type(args[0]) not in (
                (dict, ) if kind is collections.Counter else (list, tuple))):
            _refuse(f'refused {kind.__name__} arguments')
        return kind(*args)
    return make


def _complex(real: Any = 0.0, imag: Any = 0.0) -> complex:
    if type(real) not in (int, float) or type(imag) not in (int, float):
        _refuse('refused complex arguments')
    return complex(real, imag)


def container_globals() -> Dict[str, _Global]:
    """Builtin containers and numpy stand-ins (both loaders)."""
    od = collections.OrderedDict
    table = {
        'builtins.bytes': _Global(_empty_bytes, 'bytes', (bytes, )),
        '_codecs.encode': _Global(_latin1, '_codecs.encode', (bytes, )),
        'builtins.set': _Global(_container(set), 'set', (set, )),
        'builtins.frozenset': _Global(_container(frozenset), 'frozenset',
                                      (frozenset, )),
        'builtins.complex': _Global(_complex, 'complex', (complex, )),
        'collections.OrderedDict': _Global(_container(od), 'OrderedDict',
                                           (od, )),
        'collections.Counter': _Global(_container(collections.Counter),
                                       'Counter', (collections.Counter, )),
        'numpy.ndarray': NDARRAY,
        'numpy.dtype': _Global(DTypeRecipe, 'numpy.dtype', (DTypeRecipe, )),
    }
    for mod in ('numpy.core', 'numpy._core'):
        table[f'{mod}.multiarray._reconstruct'] = _Global(
            _reconstruct, '_reconstruct', (ArrayRecipe, ))
        table[f'{mod}.multiarray.scalar'] = _Global(
            _scalar, 'numpy scalar', (np.generic, ))
        table[f'{mod}.numeric._frombuffer'] = _Global(
            _frombuffer, 'numpy _frombuffer', (np.ndarray, ))
    return table


#: the BUILD targets: only instances this load created of these types
_BUILDABLE = (ArrayRecipe, DTypeRecipe)


class _Bounded:
    """The file as the unpickler reads it: a read past the end is refused
    before anything is allocated for it."""

    def __init__(self, f: BinaryIO):
        self.f = f
        pos = f.tell()
        self.end = f.seek(0, os.SEEK_END)
        f.seek(pos)

    def read(self, n: int = -1) -> bytes:
        if n > self.end - self.f.tell():
            _refuse(f'a length of {n} bytes runs past the end of the file')
        return self.f.read(n)

    def readinto(self, buf: Any) -> int:
        self.read(len(buf))  # the length check only
        self.f.seek(-len(buf), os.SEEK_CUR)
        return self.f.readinto(buf)

    def readline(self) -> bytes:
        return self.f.readline()


class RestrictedUnpickler(pickle._Unpickler):
    """Pickle's own (Python) unpickler with every opcode that calls,
    builds or mutates re-implemented under these rules:

    * globals resolve only through ``table`` (``{dotted name: _Global or
      inert value}``); REDUCE/NEWOBJ call only :class:`_Global` entries,
      whose results are type-checked;
    * BUILD targets only instances of :data:`_BUILDABLE` (validated
      recipes) or ``extra_build`` types, and an ``OrderedDict``'s
      ``_metadata``; SETITEM(S) only ``dict``/``OrderedDict``, APPEND(S) only
      ``list``, ADDITEMS only ``set`` (never a class, function or module);
    * INST/OBJ, extension codes and out-of-band buffers are refused.
    """
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, f: BinaryIO, table: Dict[str, Any],
                 extra_build: tuple = ()):
        self._bounded = _Bounded(f)
        super().__init__(self._bounded)
        self._table, self._build = table, _BUILDABLE + extra_build

    def find_class(self, module: str, name: str) -> Any:
        module, name = _compat_pickle.NAME_MAPPING.get((module, name),
                                                       (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        key = f'{module}.{name}'
        if key not in self._table:
            _refuse(f'refused global {key}')
        return self._table[key]

    def _call(self, glob: Any, args: Any, new: bool = False) -> Any:
        fn = getattr(glob, 'new' if new else 'fn', None) \
            if type(glob) is _Global else None
        if fn is None or type(args) is not tuple:
            _refuse(f'refused {"NEWOBJ of" if new else "call of"} {glob!r}')
        try:
            out = fn(*args)
        except pickle.UnpicklingError:
            raise
        except Exception as e:  # torch/numpy argument errors
            _refuse(f'{glob.name}: {type(e).__name__}: {e}')
        if not isinstance(out, glob.returns):
            _refuse(f'refused {type(out).__name__} returned by {glob.name}')
        return out

    def load_reduce(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args, new=True)

    def load_newobj_ex(self) -> None:
        kwargs, args = self.stack.pop(), self.stack.pop()
        if kwargs:
            _refuse('refused NEWOBJ_EX keyword arguments')
        self.stack[-1] = self._call(self.stack[-1], args, new=True)

    def load_build(self) -> None:
        state, inst = self.stack.pop(), self.stack[-1]
        if type(inst) in self._build:
            inst.__setstate__(state)
        elif type(inst) is collections.OrderedDict and type(state) is \
                dict and set(state) == {'_metadata'} and \
                type(state['_metadata']) in (dict, collections.OrderedDict):
            inst._metadata = state['_metadata']  # nn.Module state dicts
        else:
            _refuse(f'refused BUILD on {_kind(inst)}')

    def _target(self, types: tuple, what: str) -> Any:
        obj = self.stack[-1]
        if type(obj) not in types:
            _refuse(f'refused {what} on {_kind(obj)}')
        return obj

    def load_setitem(self) -> None:
        value, key = self.stack.pop(), self.stack.pop()
        self._target(_DICTS, 'SETITEM')[key] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()
        d = self._target(_DICTS, 'SETITEMS')
        for i in range(0, len(items) - 1, 2):
            d[items[i]] = items[i + 1]

    def load_append(self) -> None:
        value = self.stack.pop()
        self._target((list, ), 'APPEND').append(value)

    def load_appends(self) -> None:
        items = self.pop_mark()
        self._target((list, ), 'APPENDS').extend(items)

    def load_additems(self) -> None:
        items = self.pop_mark()
        self._target((set, ), 'ADDITEMS').update(items)

    def load_bytearray8(self) -> None:
        n, = struct.unpack('<Q', self.read(8))
        if n > self._bounded.end:
            _refuse(f'a bytearray of {n} bytes is longer than the file')
        self.append(bytearray(self.read(n)))

    def _refused_opcode(self) -> None:
        _refuse('refused pickle opcode (INST/OBJ/extension/out-of-band '
                'buffer)')

    for _op, _fn in ((pickle.REDUCE, load_reduce),
                     (pickle.NEWOBJ, load_newobj),
                     (pickle.NEWOBJ_EX, load_newobj_ex),
                     (pickle.BUILD, load_build),
                     (pickle.SETITEM, load_setitem),
                     (pickle.SETITEMS, load_setitems),
                     (pickle.APPEND, load_append),
                     (pickle.APPENDS, load_appends),
                     (pickle.ADDITEMS, load_additems),
                     (pickle.BYTEARRAY8, load_bytearray8)):
        dispatch[_op[0]] = _fn
    for _op in (pickle.INST, pickle.OBJ, pickle.EXT1, pickle.EXT2,
                pickle.EXT4, pickle.NEXT_BUFFER, pickle.READONLY_BUFFER):
        dispatch[_op[0]] = _refused_opcode
    del _op, _fn

    def load(self) -> Any:
        """Unpickle; every error becomes a one-line ``UnpicklingError``."""
        try:
            return resolve(super().load())
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(_one_line(e)) from e
        except (Exception, RecursionError) as e:  # malformed data
            raise pickle.UnpicklingError(
                f'malformed pickle: {type(e).__name__}: {_one_line(e)}') from e


_DICTS = (dict, collections.OrderedDict)


def _kind(obj: Any) -> str:
    """How an error names a refused target (never its full repr)."""
    if isinstance(obj, type):
        return f'the class {obj.__module__}.{obj.__qualname__}'
    if callable(obj) and hasattr(obj, '__qualname__'):
        return f'the function {obj.__qualname__}'
    return f'a {type(obj).__name__} object'


def _one_line(e: BaseException) -> str:
    return ' '.join(str(e).split())[:400]


def data_globals() -> Dict[str, Any]:
    """What a data pickle may name: containers, numpy arrays/scalars and
    (MMAction2 ``DumpResults``) dense tensors."""
    if not _DATA_TABLE:
        from mmskelcl.utils import safe_torch
        _DATA_TABLE.update(container_globals())
        _DATA_TABLE.update(safe_torch.tensor_globals())
        _DATA_TABLE['torch.storage._load_from_bytes'] = _Global(
            safe_torch.storage_from_bytes, 'torch.storage._load_from_bytes',
            safe_torch.STORAGES)
    return _DATA_TABLE


_DATA_TABLE: Dict[str, Any] = {}


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
        pickle.UnpicklingError: One line naming the file and what was
            refused.
    """
    with open(path, 'rb') as f:
        if unsafe_allowed(allow_unsafe):
            return pickle.load(f)
        token = _KINDS.set(DATA_KINDS)
        try:
            return RestrictedUnpickler(f, data_globals()).load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(
                f'{path}: {e}. Only containers, numeric numpy arrays and '
                'tensors are loaded; if you trust this file, set '
                f'{UNSAFE_ENV}=1 to load it with plain pickle') from e
        finally:
            _KINDS.reset(token)
