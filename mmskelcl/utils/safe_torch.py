"""Dense tensors and torch's file formats for the restricted unpickler.

:mod:`mmskelcl.utils.safe_pickle` resolves a pickle's globals only to vetted
stand-ins; this module adds the tensor ones and reads ``torch.save`` files
(the zip archive and the legacy stream) without ``torch.load``:

* a tensor is rebuilt only as a dense, strided view of a storage the file
  itself holds, with no more elements than that storage (sparse, quantized,
  nested, meta and subclass tensors, and the legacy ``torch.Tensor(N)`` /
  ``TypedStorage(N)`` constructors are refused);
* storages come only from the file's own records, each exactly as long as
  the pickle says (a stored zip entry, or the bytes that follow a legacy
  stream), so memory stays bounded by the file size; compressed, encrypted
  or duplicated zip entries are refused before anything is inflated;
* a nested ``torch.storage._load_from_bytes`` (how a plain pickle holds a
  tensor) may only yield a storage.
"""
import io
import math
import re
import struct
import sys
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO, Callable, Dict

import torch

from mmskelcl.utils.safe_pickle import (RestrictedUnpickler, _Bounded, _Global,
                                        _refuse)

STORAGES = (torch.storage.TypedStorage, )
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LOCATION = re.compile(r'[a-z_]{1,16}(:\d{1,4})?')


class StorageName:
    """What ``torch.FloatStorage`` (...) resolves to: the dtype of a
    persistent id, not a constructor."""
    __slots__ = ('dtype', 'name')

    def __init__(self, dtype: torch.dtype, name: str):
        self.dtype, self.name = dtype, name

    def __repr__(self) -> str:
        return f'<torch.{self.name} (persistent id only)>'


def storage_names() -> Dict[str, StorageName]:
    """``torch.<Type>Storage`` names of persistent ids (cached)."""
    if not _NAMES:
        _NAMES.update({f'torch.{name}': StorageName(dtype, name) for
                       dtype, name in
                       torch.storage._dtype_to_storage_type_map().items()})
        for key in ('torch.UntypedStorage', 'torch.storage.UntypedStorage'):
            _NAMES[key] = StorageName(torch.uint8, 'UntypedStorage')
    return _NAMES


_NAMES: Dict[str, StorageName] = {}


def _ints(x: Any, what: str) -> tuple:
    if type(x) not in (tuple, torch.Size) or len(x) > 64 or not all(
            type(n) is int and n >= 0 for n in x):
        _refuse(f'refused tensor {what} {x!r:.80}')
    return tuple(x)


def _dense(storage: Any, offset: Any, size: Any, stride: Any,
           requires_grad: Any, hooks: Any, dtype: Any = None,
           metadata: Any = None) -> torch.Tensor:
    """``_rebuild_tensor_v2/v3``: a view of a storage of this file."""
    if type(storage) is not torch.storage.TypedStorage:
        _refuse(f'refused tensor on a {type(storage).__name__} (only '
                'storages of the file)')
    dtype = storage.dtype if dtype is None else dtype
    size, stride = _ints(size, 'size'), _ints(stride, 'stride')
    if type(dtype) is not torch.dtype or type(offset) is not int or \
            offset < 0 or len(size) != len(stride) or \
            type(requires_grad) is not bool or not (
                hooks is None or (type(hooks) is OrderedDict and not hooks)) \
            or not (metadata is None or (type(metadata) is dict and set(
                metadata) <= {'conj', 'neg'} and all(
                    type(v) is bool for v in metadata.values()))):
        _refuse('refused tensor arguments (offset, dtype, grad, hooks or '
                'metadata)')
    have = storage._untyped_storage.nbytes() // dtype.itemsize
    numel = math.prod(size)
    if numel and (numel > have or offset + 1 + sum(
            (n - 1) * s for n, s in zip(size, stride)) > have):
        _refuse(f'refused tensor of size {size} / stride {stride} at '
                f'offset {offset}: its storage holds {have} elements')
    t = torch.empty((0, ), dtype=dtype,
                    device=storage._untyped_storage.device)
    t.set_(storage._untyped_storage, offset, size, stride)
    if metadata:
        torch._utils.set_tensor_metadata(t, metadata)
    return t.requires_grad_(requires_grad)


def _dense_v3(storage: Any, offset: Any, size: Any, stride: Any,
              requires_grad: Any, hooks: Any, dtype: Any,
              metadata: Any = None) -> torch.Tensor:
    return _dense(storage, offset, size, stride, requires_grad, hooks,
                  dtype, metadata)


def _parameter(data: Any, requires_grad: Any,
               hooks: Any) -> torch.nn.Parameter:
    if type(data) is not torch.Tensor or type(requires_grad) is not bool \
            or not (hooks is None or (type(hooks) is OrderedDict
                                      and not hooks)):
        _refuse('refused Parameter arguments')
    return torch.nn.Parameter(data, requires_grad)


def _size(dims: Any = ()) -> torch.Size:
    return torch.Size(_ints(dims, 'Size'))


def _device(kind: Any, index: Any = None) -> torch.device:
    if type(kind) is not str or not _LOCATION.fullmatch(kind) or \
            index is not None and type(index) is not int:
        _refuse(f'refused torch.device({kind!r:.40})')
    return torch.device(kind) if index is None else torch.device(kind, index)


def tensor_globals() -> Dict[str, Any]:
    """Dense tensors, parameters, dtypes, ``torch.Size``, ``torch.device``
    (dtypes are inert values: nothing can call them)."""
    dtypes = set(torch.storage._dtype_to_storage_type_map()) | set(
        torch.storage._new_dtypes())
    table: Dict[str, Any] = {str(t): t for t in dtypes}
    table.update({
        'torch._utils._rebuild_tensor_v2': _Global(
            _dense, '_rebuild_tensor_v2', (torch.Tensor, )),
        'torch._utils._rebuild_tensor_v3': _Global(
            _dense_v3, '_rebuild_tensor_v3', (torch.Tensor, )),
        'torch._utils._rebuild_parameter': _Global(
            _parameter, '_rebuild_parameter', (torch.nn.Parameter, )),
        'torch.Size': _Global(_size, 'torch.Size', (torch.Size, )),
        'torch.device': _Global(_device, 'torch.device', (torch.device, )),
    })
    return table


class _ArchiveUnpickler(RestrictedUnpickler):
    """Resolves persistent ids to storages read by ``fetch(key, nbytes)``,
    placed by ``map_location`` as :func:`torch.load` does."""

    def __init__(self, f: BinaryIO, table: Dict[str, Any], fetch: Callable,
                 map_location: Any, legacy: bool, extra_build: tuple = ()):
        super().__init__(f, table, extra_build)
        self._fetch, self._legacy, self.storages = fetch, legacy, {}
        self._restore = torch.serialization._get_restore_location(
            map_location)

    def persistent_load(self, pid: Any) -> torch.storage.TypedStorage:
        n = 6 if self._legacy else 5
        if type(pid) is not tuple or len(pid) != n or pid[0] != 'storage' \
                or type(pid[1]) is not StorageName or type(pid[2]) is not \
                str or type(pid[3]) is not str or type(pid[4]) is not int \
                or pid[4] < 0 or (self._legacy and pid[5] is not None):
            _refuse(f'refused persistent id {pid!r:.120}')
        name, key, location, numel = pid[1:5]
        if key in self.storages:
            if self.storages[key].dtype != name.dtype:
                _refuse(f'storage {key} is read with two dtypes')
            return self.storages[key]
        if not _LOCATION.fullmatch(location):
            _refuse(f'refused storage location {location!r:.40}')
        data = self._fetch(key, numel * name.dtype.itemsize)
        try:
            placed = self._restore(data, location)
        except Exception as e:  # e.g. a CUDA location without a GPU
            _refuse(f'storage {key} cannot be placed on {location}: {e}')
        self.storages[key] = torch.storage.TypedStorage(
            wrap_storage=placed, dtype=name.dtype, _internal=True)
        return self.storages[key]


def _check_zip(zf: zipfile.ZipFile, size: int) -> str:
    """The record prefix, after every entry is checked to be stored (not
    compressed or encrypted), unique and inside the file."""
    names = set()
    for info in zf.infolist():
        if info.compress_type != zipfile.ZIP_STORED or \
                info.compress_size != info.file_size or info.flag_bits & 1:
            _refuse(f'refused compressed or encrypted zip entry '
                    f'{info.filename} (method {info.compress_type}, '
                    f'{info.compress_size} -> {info.file_size} bytes): '
                    'torch.save writes stored entries only')
        if info.filename in names or \
                info.header_offset + info.file_size > size:
            _refuse(f'refused duplicated or out-of-file zip entry '
                    f'{info.filename}')
        names.add(info.filename)
    pkl = [n for n in names if n.endswith('/data.pkl') and n.count('/') == 1]
    if len(pkl) != 1:
        _refuse('not a torch.save archive (no single <name>/data.pkl)')
    prefix = pkl[0][:-len('data.pkl')]
    if prefix + 'byteorder' in names and \
            zf.read(prefix + 'byteorder').decode('ascii', 'replace') != \
            sys.byteorder:
        _refuse(f'refused byte order {zf.read(prefix + "byteorder")!r:.20}')
    return prefix


def _bytes_storage(buf: bytearray) -> torch.UntypedStorage:
    if not buf:
        return torch.UntypedStorage(0)
    return torch.frombuffer(buf, dtype=torch.uint8).untyped_storage()


def _load_zip(f: BinaryIO, size: int, table: Dict[str, Any],
              map_location: Any, extra_build: tuple) -> Any:
    zf = zipfile.ZipFile(f)
    prefix = _check_zip(zf, size)

    def fetch(key: str, nbytes: int) -> torch.UntypedStorage:
        try:
            info = zf.getinfo(f'{prefix}data/{key}')
        except KeyError:
            _refuse(f'storage {key!r:.40} has no record')
        if info.file_size != nbytes:
            _refuse(f'storage {key} claims {nbytes} bytes, its record '
                    f'holds {info.file_size}')
        buf = bytearray(nbytes)
        with zf.open(info) as rec:  # CRC-checked
            rec.readinto(buf)
        return _bytes_storage(buf)

    data = io.BytesIO(zf.read(prefix + 'data.pkl'))
    return _ArchiveUnpickler(data, table, fetch, map_location, False,
                             extra_build).load()


def _load_legacy(f: BinaryIO, size: int, table: Dict[str, Any],
                 map_location: Any, extra_build: tuple) -> Any:
    """The pre-1.6 stream: magic, protocol, sys info, the pickle, the
    storage keys, then each storage's element count and bytes."""
    def small() -> Any:
        return RestrictedUnpickler(f, {}).load()

    if small() != LEGACY_MAGIC or small() != 1001:
        _refuse('not a torch.save file (neither a zip archive nor the '
                'legacy format)')
    info = small()
    if type(info) is not dict or info.get('little_endian') is not (
            sys.byteorder == 'little'):
        _refuse('refused legacy file of another byte order')

    def fetch(key: str, nbytes: int) -> torch.UntypedStorage:
        if nbytes > size - f.tell():
            _refuse(f'storage {key} claims {nbytes} bytes, more than the '
                    'file holds')
        return torch.UntypedStorage(nbytes).fill_(0)

    unpickler = _ArchiveUnpickler(f, table, fetch, map_location, True,
                                  extra_build)
    result = unpickler.load()
    keys, filled, raw = small(), set(), _Bounded(f)
    if type(keys) is not list:
        _refuse('refused legacy storage key list')
    for key in keys:
        storage = unpickler.storages.get(key)
        if storage is None or key in filled:
            _refuse(f'refused legacy storage key {key!r:.40}')
        count, = struct.unpack('<q', raw.read(8))
        if count != storage._size():
            _refuse(f'storage {key} holds {count} elements, the pickle '
                    f'says {storage._size()}')
        buf = bytearray(raw.read(count * storage._element_size()))
        storage._untyped_storage.copy_(_bytes_storage(buf))
        filled.add(key)
    if filled != set(unpickler.storages):
        missing = sorted(set(unpickler.storages) - filled)[:3]
        _refuse(f'refused storages without data: {missing}')
    return result


def load_archive(f: BinaryIO, table: Dict[str, Any], map_location: Any = None,
                 extra_build: tuple = ()) -> Any:
    """Read a ``torch.save`` file (zip or legacy) with ``table``'s globals.

    Raises:
        pickle.UnpicklingError: What was refused (without the file name).
    """
    size = f.seek(0, 2)
    f.seek(0)
    load = _load_zip if f.read(4) == b'PK\x03\x04' else _load_legacy
    f.seek(0)
    try:
        return load(f, size, table, map_location, extra_build)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError,
            struct.error) as e:  # the zip layer, CRC, short reads
        _refuse(f'malformed archive: {type(e).__name__}: '
                f'{" ".join(str(e).split())[:300]}')


def storage_from_bytes(data: Any) -> torch.storage.TypedStorage:
    """``torch.storage._load_from_bytes``: a legacy stream that must hold
    one storage and nothing else."""
    if type(data) is not bytes:
        _refuse('refused nested load of a non-bytes object')
    try:
        out = load_archive(io.BytesIO(data), storage_names())
    except Exception as e:
        _refuse(f'refused nested torch load: {e}')
    if type(out) is not torch.storage.TypedStorage:
        _refuse(f'refused nested torch load returning {type(out).__name__} '
                '(only a storage)')
    return out
