"""Safe checkpoint loading for mmengine 0.10.7 on torch >= 2.6.

Upstream: open-mmlab/mmengine#1655 (fixed only on mmengine ``main``,
0.11.0rc0, commit 151a87ab; not in any 0.10.x release). torch 2.6 made
``weights_only=True`` the default of ``torch.load``; mmengine's Runner
stores a ``MessageHub`` state with ``HistoryBuffer`` objects holding numpy
arrays and numpy scalars, which the restricted unpickler refuses.

The fix never calls ``torch.load``: :func:`load_checkpoint_file` reads the
``torch.save`` archive itself (:mod:`mmskelcl.utils.safe_torch`: stored zip
records only, storages bounded by their records, dense tensors only) and
unpickles ``data.pkl`` with :class:`mmskelcl.utils.safe_pickle.
RestrictedUnpickler`, whose globals resolve only to inert stand-ins:

* ``HistoryBuffer`` -> :class:`_CheckpointHistoryBuffer`, which cannot be
  called and validates its state (the four builtin statistics names, each
  mapped to the real method; numeric 1-d histories) before it becomes a
  plain ``HistoryBuffer``; file data never reaches class-level state;
* ``getattr`` -> :func:`_checkpoint_getattr`, which resolves exactly
  ``HistoryBuffer.min/max/current/mean`` from a table fixed at import;
* numpy's reconstructors -> the stand-ins of :mod:`mmskelcl.utils.safe_pickle`
  (arrays only through ``_reconstruct``, numeric/boolean dtypes only).

Nothing is registered process-wide (a plain ``torch.load`` is unchanged);
:func:`apply_checkpoint_fix` registers :func:`load_checkpoint_file` as
mmengine's loader for local files; remote checkpoints (``http(s)://``,
``open-mmlab://``, ``torchvision://``, ``mmcls://``) are downloaded and then
loaded by the same function.
"""
import os
import os.path as osp
import pickle
import types
from typing import Any, Dict, Optional
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from mmskelcl.utils import safe_pickle, safe_torch

_STATISTICS: Dict[str, Any] = {
    name: HistoryBuffer.__dict__[name]
    for name in ('min', 'max', 'current', 'mean')}
_HB_KEYS = {'max_length', '_log_history', '_count_history'}
_HB = 'mmengine.logging.history_buffer.HistoryBuffer'


def _refuse(message: str) -> None:
    raise pickle.UnpicklingError(f'{message} (mmskelcl.compat.checkpoint)')


class _CheckpointHistoryBuffer(HistoryBuffer, safe_pickle.Pending):
    """What ``HistoryBuffer`` resolves to in a checkpoint: built only from a
    validated state, then turned into a plain ``HistoryBuffer``."""

    def __init__(self, *args: Any, **kwargs: Any):
        _refuse('refused a call of HistoryBuffer in a checkpoint')

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or not _HB_KEYS <= set(state) or \
                not set(state) <= _HB_KEYS | {'statistics_methods'}:
            _refuse(f'refused HistoryBuffer state keys '
                    f'{sorted(state) if isinstance(state, dict) else state}')
        methods = state.get('statistics_methods', {})
        if not isinstance(methods, dict) or any(
                _STATISTICS.get(k) is not v for k, v in methods.items()):
            _refuse('refused HistoryBuffer statistics_methods: only '
                    f'{sorted(_STATISTICS)} mapped to the HistoryBuffer '
                    'methods are allowed')
        hist = [safe_pickle.resolve(state[k])
                for k in ('_log_history', '_count_history')]
        if not all(isinstance(h, np.ndarray) and h.ndim == 1
                   and h.dtype.kind in 'biuf' for h in hist) or \
                len(hist[0]) != len(hist[1]):
            _refuse('refused HistoryBuffer histories: expected two numeric '
                    '1-d numpy arrays of equal length')
        if type(state['max_length']) is not int or state['max_length'] < 1:
            _refuse(f'refused HistoryBuffer max_length '
                    f'{state["max_length"]!r}')
        HistoryBuffer._set_default_statistics(self)  # the real methods only
        self.__dict__.update(max_length=state['max_length'],
                             _log_history=hist[0], _count_history=hist[1])
        self.__class__ = HistoryBuffer


def _new_history_buffer() -> _CheckpointHistoryBuffer:
    """NEWOBJ ``HistoryBuffer``: an empty instance awaiting its BUILD."""
    return _CheckpointHistoryBuffer.__new__(_CheckpointHistoryBuffer)


def _checkpoint_getattr(obj: Any, name: Any) -> Any:
    """Stand-in for ``getattr``: only ``HistoryBuffer``'s statistics."""
    if obj is _checkpoint_table()[_HB] and type(name) is str and \
            name in _STATISTICS:
        return _STATISTICS[name]
    _refuse(f'refused getattr({obj!r}, {name!r}) in a checkpoint: only '
            f'HistoryBuffer.{"/".join(_STATISTICS)} are allowed')


_TABLE: Dict[str, Any] = {}


def _checkpoint_table() -> Dict[str, Any]:
    """What a checkpoint's pickle may name: containers, numpy, dense
    tensors, storage types (persistent ids), HistoryBuffer and getattr."""
    if not _TABLE:
        _TABLE.update(safe_pickle.container_globals())
        _TABLE.update(safe_torch.tensor_globals())
        _TABLE.update(safe_torch.storage_names())
        _TABLE[_HB] = safe_pickle._Global(
            None, 'HistoryBuffer', (_CheckpointHistoryBuffer, ),
            new=_new_history_buffer)
        for key in ('builtins.getattr', '__builtin__.getattr'):
            _TABLE[key] = safe_pickle._Global(
                _checkpoint_getattr, 'getattr', (types.FunctionType, ))
        for name, fn in _STATISTICS.items():  # protocol >= 4 qualnames
            _TABLE[f'{_HB}.{name}'] = fn
    return _TABLE


def load_checkpoint_file(filename: Any,
                         map_location: Any = None) -> Any:
    """Load a ``torch.save`` checkpoint without running anything from it.

    Args:
        filename (str | file): A local checkpoint (or an open binary file).
        map_location: As in :func:`torch.load`.

    Returns:
        Any: The checkpoint, with real numpy arrays and HistoryBuffers.

    Raises:
        pickle.UnpicklingError: One line naming the file and what was
            refused.
    """
    name = getattr(filename, 'name', filename)
    if not isinstance(name, (str, os.PathLike)):
        name = 'checkpoint stream'  # e.g. the bytes of an s3:// file
    try:
        if hasattr(filename, 'read'):
            return safe_torch.load_archive(
                filename, _checkpoint_table(), map_location,
                (_CheckpointHistoryBuffer, ))
        with open(filename, 'rb') as f:
            return safe_torch.load_archive(f, _checkpoint_table(),
                                           map_location,
                                           (_CheckpointHistoryBuffer, ))
    except pickle.UnpicklingError as e:
        raise pickle.UnpicklingError(
            f'{name}: {e}. Checkpoints may hold only containers, numeric '
            'numpy values, dense tensors and mmengine HistoryBuffers') from e


def _load_from_local(filename: str, map_location: Any = None) -> Any:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_file(filename, map_location=map_location)


def _load_url(url: str,
              model_dir: Optional[str] = None,
              map_location: Any = None,
              progress: bool = True,
              check_hash: bool = False,
              file_name: Optional[str] = None,
              **kwargs: Any) -> Any:
    """mmengine's ``load_url`` (torch.hub's ``weights_only=False``
    loader), replaced: download to the hub cache, then load safely."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir,
                      file_name or osp.basename(urlparse(url).path))
    if not osp.exists(cached):
        hash_prefix = None
        if check_hash:
            match = torch.hub.HASH_REGEX.search(osp.basename(cached))
            hash_prefix = match.group(1) if match else None
        torch.hub.download_url_to_file(url, cached, hash_prefix,
                                       progress=progress)
    return load_checkpoint_file(cached, map_location=map_location)


def defect_present() -> bool:
    """Whether this torch/mmengine pair has the ``weights_only`` defect."""
    from mmengine import digit_version
    import mmengine
    torch_default_safe = digit_version(
        torch.__version__.split('+')[0]) >= digit_version('2.6.0')
    mmengine_fixed = digit_version(
        mmengine.__version__) >= digit_version('0.11.0rc0')
    return torch_default_safe and not mmengine_fixed


class _TorchInCheckpointModule(types.ModuleType):
    """``torch`` as mmengine's checkpoint module sees it: ``torch.load``
    (used by its ``s3://``/``petrel://``, ``pavi://`` and local
    ``open-mmlab://`` loaders) is :func:`load_checkpoint_file`; everything
    else is the real torch."""

    def __init__(self):
        super().__init__('torch')

    def __getattr__(self, name: str) -> Any:
        return getattr(torch, name)

    @staticmethod
    def load(f: Any, map_location: Any = None, **kwargs: Any) -> Any:
        return load_checkpoint_file(f, map_location=map_location)


def apply_checkpoint_fix() -> bool:
    """Route every checkpoint load of mmengine's checkpoint module (local
    files, URLs, s3/petrel, pavi, open-mmlab) through
    :func:`load_checkpoint_file`. Idempotent; returns True."""
    import mmengine.runner.checkpoint as mm_ckpt
    mm_ckpt.CheckpointLoader.register_scheme(
        prefixes='', loader=_load_from_local, force=True)
    mm_ckpt.load_url = _load_url  # used by http(s)/open-mmlab/mmcls/...
    if not isinstance(mm_ckpt.torch, _TorchInCheckpointModule):
        mm_ckpt.torch = _TorchInCheckpointModule()
    return True
