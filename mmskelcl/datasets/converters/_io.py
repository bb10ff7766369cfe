"""Atomic writes and resumable item loops shared by the converters.

Every converter turns many inputs (files, videos, samples) into annotations
and writes one pickle. Two guarantees are shared:

* **atomic output**: :func:`atomic_dump` writes a temporary file beside the
  target and renames it, so a killed run never leaves a half-written file
  under the final name (a previous file stays untouched);
* **resume**: :class:`ResumeCache` keeps finished items beside the output
  (``OUT.partial``) together with a signature of their input, and
  :func:`run_resumable` only processes the items that are new or whose
  signature changed. The cache is only trusted when its ``meta`` (format
  version, source, options) equals the current run's.

Two cache layouts exist. ``'snapshot'`` rewrites one file holding every
item (fine for small datasets such as NW-UCLA); ``'chunks'`` appends one
file per ``save_every`` items to the ``OUT.partial`` directory, so a run
over 100k NTU samples writes every item once instead of re-pickling the
whole cache at each save.
"""
import os
import os.path as osp
import pickle
import shutil
import tempfile
from typing import (Any, Callable, Dict, Hashable, Iterable, Sequence,
                    Tuple)

from tqdm import tqdm

from mmskelcl.utils.safe_pickle import safe_load

CACHE_LAYOUTS = ('snapshot', 'chunks')
Signature = Tuple[int, int]
#: What :meth:`ResumeCache.get` returns for a key it cannot reuse.
MISSING = object()


def atomic_dump(obj: Any, path: str) -> None:
    """Pickle ``obj`` to a temp file beside ``path``, then rename it.

    The final file gets the usual ``0666 & ~umask`` mode (not mkstemp's
    0600). On any error the temp file is removed and the error re-raised.
    """
    fd, tmp = tempfile.mkstemp(prefix=osp.basename(path) + '.',
                               suffix='.tmp', dir=osp.dirname(path) or '.')
    try:
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def file_signature(path: str) -> Signature:
    """``(size, mtime_ns)`` of a file: changes when the file is rewritten."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def ensure_parent(path: str) -> None:
    """Create the folder that will hold ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)


def _read_pickle(path: str) -> Any:
    try:
        return safe_load(path)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError,
            ImportError, IndexError, TypeError, ValueError):
        return None


class ResumeCache:
    """Finished items of an earlier, killed run of the same conversion.

    Args:
        path (str): Cache location, conventionally ``out_file + '.partial'``
            (a file for ``'snapshot'``, a folder for ``'chunks'``).
        meta (dict): What makes items reusable (format version, source,
            options that change items). A cache with other meta is ignored.
        resume (bool): Read an existing cache (else it is ignored and, for
            ``'chunks'``, removed). Defaults to True.
        save_every (int): Save after this many new items. Defaults to 100.
        layout (str): ``'snapshot'`` or ``'chunks'``. Defaults to
            ``'snapshot'``.
    """

    def __init__(self, path: str, meta: Dict[str, Any], resume: bool = True,
                 save_every: int = 100, layout: str = 'snapshot') -> None:
        if save_every < 1:
            raise ValueError(f'save_every must be >= 1, got {save_every}')
        if layout not in CACHE_LAYOUTS:
            raise ValueError(f'layout must be one of {CACHE_LAYOUTS}, got '
                             f'{layout!r}')
        self.path, self.meta = path, dict(meta)
        self.save_every, self.layout = save_every, layout
        if not resume and layout == 'chunks':
            self.discard()  # never mix chunks of an ignored earlier run
        self.cached: Dict[Hashable, tuple] = self._load() if resume else {}
        self.items: Dict[Hashable, tuple] = {}  # this run's (sig, item)
        self._unsaved: Dict[Hashable, tuple] = {}
        self._num_new = 0

    def _valid(self, obj: Any) -> bool:
        return isinstance(obj, dict) and isinstance(obj.get('items'), dict) \
            and all(obj.get(k) == v for k, v in self.meta.items())

    def _chunk_files(self) -> Sequence[str]:
        if not osp.isdir(self.path):
            return []
        return sorted(osp.join(self.path, n) for n in os.listdir(self.path)
                      if n.startswith('chunk_') and n.endswith('.pkl'))

    def _load(self) -> Dict[Hashable, tuple]:
        if self.layout == 'snapshot':
            obj = _read_pickle(self.path) if osp.isfile(self.path) else None
            return dict(obj['items']) if self._valid(obj) else {}
        items: Dict[Hashable, tuple] = {}
        for chunk in self._chunk_files():  # later chunks win
            obj = _read_pickle(chunk)
            if self._valid(obj):
                items.update(obj['items'])
        return items

    def get(self, key: Hashable, sig: Any) -> Any:
        """The cached item of ``key`` if its signature is ``sig``, else
        :data:`MISSING` (items themselves may be None)."""
        entry = self.cached.get(key)
        if entry is not None and entry[0] == sig:
            self.items[key] = entry
            return entry[1]
        return MISSING

    def put(self, key: Hashable, sig: Any, item: Any) -> None:
        """Record a new item; saves every ``save_every`` new items."""
        self.items[key] = self._unsaved[key] = (sig, item)
        self._num_new += 1
        if self._num_new % self.save_every == 0:
            self.save()

    def save(self) -> None:
        """Write what is not yet on disk (atomically)."""
        if self.layout == 'snapshot':
            atomic_dump(dict(self.meta, items=self.items), self.path)
        elif self._unsaved:
            if osp.isfile(self.path):
                os.remove(self.path)
            os.makedirs(self.path, exist_ok=True)
            files = self._chunk_files()
            last = int(osp.basename(files[-1])[6:-4]) if files else 0
            atomic_dump(dict(self.meta, items=self._unsaved),
                        osp.join(self.path, f'chunk_{last + 1:06d}.pkl'))
        self._unsaved = {}

    def discard(self) -> None:
        """Remove the cache (after the output was written)."""
        if osp.isdir(self.path):
            shutil.rmtree(self.path)
        elif osp.exists(self.path):
            os.remove(self.path)


def run_resumable(todo: Iterable[Tuple[Hashable, Any]],
                  work: Callable[[Hashable], Any],
                  cache: ResumeCache,
                  desc: str,
                  unit: str = 'item',
                  progress: bool = True) -> Dict[Hashable, Any]:
    """Run ``work(key)`` for every ``(key, signature)`` not in ``cache``.

    Cached items are taken as they are; the bar starts at their count. When
    ``work`` raises (or the run is interrupted), what is done is saved to
    the cache before the error propagates unchanged.

    Returns:
        dict: ``key -> item`` for every key of ``todo``, in its order.
    """
    todo = list(todo)
    results: Dict[Hashable, Any] = {}
    pending = []
    for key, sig in todo:
        item = cache.get(key, sig)
        if item is MISSING:
            pending.append((key, sig))
        else:
            results[key] = item
    try:
        for key, sig in tqdm(pending, desc=desc, unit=unit, total=len(todo),
                             initial=len(results), disable=not progress):
            results[key] = item = work(key)
            cache.put(key, sig, item)
    except BaseException:
        if cache.items:  # keep what is done; never hide the original error
            try:
                cache.save()
            except Exception:
                pass
        raise
    return {key: results[key] for key, _ in todo}
