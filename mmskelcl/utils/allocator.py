"""Memory allocator and thread share of the project's torch processes.

On a CPU, glibc's ``malloc`` hands the large activation buffers of a
training step back to the kernel and faults them in again on the next step
(a third of a CTR-GCN NTU step at batch 32 on a 2-core machine was kernel
time). PyTorch's CPU performance guide recommends tcmalloc or jemalloc, and
its launcher ``python -m torch.backends.xeon.run_cpu --enable-tcmalloc``
sets them up through ``LD_PRELOAD``. That launcher only looks for an
unversioned ``libtcmalloc.so`` in ``/usr/lib`` and ``/usr/local/lib``, so
it misses Debian's ``libtcmalloc-minimal4``
(``/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4``). This module sets
the same ``LD_PRELOAD`` (and, for jemalloc, the launcher's ``MALLOC_CONF``)
after a search that includes the multiarch directories.

``LD_PRELOAD`` only acts when a process starts, so :func:`ensure` re-executes
the current script once, before torch is imported, and children get it
through :func:`child_env`. The switch is the environment variable
``MMSKELCL_ALLOCATOR``: ``auto`` (default: tcmalloc when installed, else
glibc with one notice), ``tcmalloc``, ``jemalloc`` or ``glibc`` (off).

Only the standard library is imported here: the tools load this file before
torch (see ``tools/_preload.py``).
"""
import glob
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

ENV = 'MMSKELCL_ALLOCATOR'
CHOICES = ('auto', 'tcmalloc', 'jemalloc', 'glibc')
_EXECED = 'MMSKELCL_ALLOCATOR_EXECED'
# file names of each allocator, most specific first
_NAMES = {
    'tcmalloc': ('libtcmalloc.so', 'libtcmalloc.so.4',
                 'libtcmalloc_minimal.so', 'libtcmalloc_minimal.so.4'),
    'jemalloc': ('libjemalloc.so', 'libjemalloc.so.2'),
}
# torch.backends.xeon.run_cpu's jemalloc settings
JEMALLOC_CONF = 'oversize_threshold:1,background_thread:true,metadata_thp:auto'
INSTALL_HINT = {
    'tcmalloc': 'apt-get install libtcmalloc-minimal4 (or conda install -c '
                'conda-forge gperftools)',
    'jemalloc': 'apt-get install libjemalloc2 (or conda install -c '
                'conda-forge jemalloc)',
}


def search_dirs() -> List[str]:
    """Library directories searched, in order (torch's launcher's + multiarch)."""
    dirs = [osp.join(os.environ[k], 'lib') for k in ('CONDA_PREFIX',
                                                     'VIRTUAL_ENV')
            if k in os.environ]
    dirs += [osp.expanduser('~/.local/lib'), '/usr/local/lib',
             '/usr/local/lib64', '/usr/lib', '/usr/lib64']
    dirs += sorted(glob.glob('/usr/lib/*-linux-gnu'))
    dirs += sorted(glob.glob('/lib/*-linux-gnu'))
    return dirs


def find(kind: str) -> Optional[str]:
    """Path of the ``kind`` allocator's shared library, or None."""
    for d in search_dirs():
        for name in _NAMES[kind]:
            path = osp.join(d, name)
            if osp.isfile(path):
                return path
    return None


def requested(env: Optional[Dict[str, str]] = None) -> str:
    """The allocator asked for through ``MMSKELCL_ALLOCATOR``."""
    value = (env if env is not None else os.environ).get(ENV, 'auto')
    value = value.strip().lower() or 'auto'
    if value not in CHOICES:
        raise SystemExit(f'error: {ENV}={value!r}: choose one of '
                         f'{", ".join(CHOICES)}')
    return value


def resolve(kind: str = 'auto') -> Tuple[str, Optional[str], str]:
    """``(allocator, library path or None, notice)`` for a request.

    A requested library that is missing falls back to glibc; the notice
    then says how to install it ('' when nothing is to be said).
    """
    if kind == 'glibc':
        return 'glibc', None, ''
    want = 'tcmalloc' if kind == 'auto' else kind
    path = find(want)
    if path:
        return want, path, ''
    return 'glibc', None, (
        f'{want} not found, running with glibc malloc; {INSTALL_HINT[want]} '
        'makes large CPU training steps faster (docs/performance.md)')


def preload_env(kind: str = 'auto',
                base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) that starts ``kind``.

    The allocator's library is put first in ``LD_PRELOAD``; other
    allocators' libraries already there are removed (with ``glibc``, all of
    them), and jemalloc gets torch's ``MALLOC_CONF`` unless one is set.
    """
    env = dict(os.environ if base is None else base)
    allocator, path, _ = resolve(kind)
    known = {n for names in _NAMES.values() for n in names}
    keep = [p for p in env.get('LD_PRELOAD', '').replace(' ', ':').split(':')
            if p and osp.basename(p) not in known]
    if path:
        keep.insert(0, path)
    if keep:
        env['LD_PRELOAD'] = ':'.join(keep)
    else:
        env.pop('LD_PRELOAD', None)
    if allocator == 'jemalloc':
        env.setdefault('MALLOC_CONF', JEMALLOC_CONF)
    env[ENV] = kind
    return env


def mapped(pid: str = 'self') -> str:
    """The allocator mapped into process ``pid``: tcmalloc, jemalloc or glibc."""
    try:
        with open(f'/proc/{pid}/maps') as f:
            maps = f.read()
    except OSError:
        return 'unknown'
    for kind in ('tcmalloc', 'jemalloc'):
        if f'lib{kind}' in maps:
            return kind
    return 'glibc'


def ensure() -> None:
    """Re-execute this script once so that the requested allocator loads.

    Call before torch is imported. Does nothing when the allocator mapped
    already is the one asked for, when the library is missing (the log line
    of :func:`describe` says so) or after one re-execution (a preload the
    loader ignored does not loop). With ``glibc`` an inherited preload of
    another allocator is removed.
    """
    kind = requested()
    allocator, _, _ = resolve(kind)
    if mapped() == allocator or os.environ.get(_EXECED) == '1':
        return
    if allocator == 'glibc' and kind != 'glibc':
        return  # library missing: nothing to preload
    env = preload_env(kind)
    env[_EXECED] = '1'
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def share_threads(jobs: int, cores: Optional[int] = None) -> int:
    """Threads per process when ``jobs`` torch processes run at once.

    Their sum never exceeds the cores (at least one thread each): OpenMP
    threads of processes that together ask for more than the cores spin
    against each other (6-30x slower iterations seen on 2 cores).
    """
    cores = cores or available_cores()
    return max(1, cores // max(1, jobs))


def rank_threads(current: int,
                 env: Optional[Dict[str, str]] = None) -> int:
    """Threads of one process of a launcher (torchrun, slurm) on this node.

    ``current`` capped so that the ``LOCAL_WORLD_SIZE`` processes of the
    node together use at most its cores.
    """
    local = int((os.environ if env is None else env).get(
        'LOCAL_WORLD_SIZE', '1'))
    return min(current, share_threads(local)) if local > 1 else current


def available_cores() -> int:
    """CPU cores this process may run on (affinity, else ``os.cpu_count``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def child_env(threads: int, kind: Optional[str] = None,
              base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment of a child torch process: allocator and ``threads``.

    Args:
        threads (int): OpenMP/MKL threads of the child.
        kind (str, optional): allocator; default: ``MMSKELCL_ALLOCATOR`` of
            ``base`` (``auto``).
        base (dict, optional): environment to start from (``os.environ``).
    """
    base = dict(os.environ if base is None else base)
    env = preload_env(kind or requested(base), base)
    env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
    env[_EXECED] = '1'  # the child starts with its allocator: no re-exec
    return env


def describe(threads: Optional[int] = None) -> str:
    """One log line: the allocator mapped into this process and its threads."""
    allocator = mapped()
    line = f'allocator: {allocator}'
    if allocator == 'glibc' and requested() != 'glibc':
        _, _, notice = resolve(requested())
        if notice:
            line += f' ({notice})'
    if threads is not None:
        line += f'; torch threads: {threads} of {available_cores()} cores'
    return line
