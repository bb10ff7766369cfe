"""One run of a grid: ``tools/train.py`` then ``tools/test.py`` on the last
checkpoint, recorded as one JSON; finished runs are skipped, an interrupted
one resumes from its last checkpoint.

A grid entry is a config path, or ``PRETRAIN>LINEAR`` (self-supervised
protocol: pretrain, then train the linear probe with
``model.backbone.init_cfg.checkpoint`` set to the pretraining's last
checkpoint, test the probe), or ``random>LINEAR`` (the same probe on a
randomly initialised frozen backbone, ``model.backbone.init_cfg=None``).
"""
import hashlib
import json
import os
import os.path as osp
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .. import allocator
from .schedule import Schedule

def child_env(repo: str, threads: int) -> Dict[str, str]:
    """Environment of a run's processes: ``threads`` OpenMP/MKL threads,
    ``repo`` first on the import path, the allocator of
    ``MMSKELCL_ALLOCATOR`` (tcmalloc where installed; see
    :mod:`mmskelcl.utils.allocator`)."""
    env = allocator.child_env(threads)
    env['PYTHONUNBUFFERED'] = '1'
    rest = [p for p in env.get('PYTHONPATH', '').split(':') if p and p != repo]
    env['PYTHONPATH'] = ':'.join([repo] + rest)
    return env


def run_child(cmd: List[str], cwd: str, env: Dict[str, str], log: str,
              nice: int = 0) -> Tuple[int, float, float]:
    """Run ``cmd`` (output appended to ``log``); ``(status, wall s, CPU s)``
    where CPU counts the child and the processes it waited for (loader
    workers)."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    if nice:
        cmd = ['nice', '-n', str(nice)] + cmd
    start = time.time()
    with open(log, 'a') as f:
        f.write(f'$ {" ".join(cmd)}\n')
        f.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=f,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return (proc.returncode, time.time() - start,
            usage.ru_utime + usage.ru_stime)


@dataclass
class Entry:
    """A grid entry (see the module docstring)."""
    text: str
    config: str  # the config that is tested (the probe for SSL entries)
    pretrain: Optional[str] = None  # SSL: pretraining config or 'random'

    @property
    def name(self) -> str:
        stem = osp.splitext(osp.basename(self.config))[0]
        if self.pretrain is None:
            return stem
        pre = (self.pretrain if self.pretrain == 'random' else
               osp.splitext(osp.basename(self.pretrain))[0])
        return f'{pre}>{stem}'


def parse_entry(text: str) -> Entry:
    """``CONFIG``, ``PRETRAIN>LINEAR`` or ``random>LINEAR``."""
    parts = text.split('>')
    if len(parts) > 2 or not all(parts):
        raise ValueError(f'grid entry {text!r}: expected CONFIG, '
                         'PRETRAIN>LINEAR or random>LINEAR')
    for p in parts:
        if p != 'random' and not osp.isfile(p):
            raise ValueError(f'grid entry {text!r}: config not found: {p}')
    if len(parts) == 1:
        return Entry(text, parts[0])
    return Entry(text, parts[1], pretrain=parts[0])


def _plain(obj: Any) -> Any:
    """JSON-able copy of a config dict (functions/modules -> type name)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return f'<{type(obj).__name__}>'


def options_dict(options: List[str]) -> Dict[str, Any]:
    """``key=value`` strings parsed as ``--cfg-options`` parses them."""
    from mmengine.config import DictAction
    out = {}
    for item in options:
        key, value = item.split('=', 1)
        out[key] = DictAction._parse_iterable(value)
    return out


def load_config(config: str, ann_file: Optional[str] = None):
    from mmengine.config import Config

    from ..preflight import apply_data_overrides
    return apply_data_overrides(Config.fromfile(config), ann_file)


def config_hash(config: str, options: List[str]) -> str:
    """sha256 (16 hex) of the resolved config: the file and its imports
    with ``options`` merged (annotation path and machine not included)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options_dict(options))
    text = json.dumps(_plain(cfg.to_dict()), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def git_commit(repo: str) -> str:
    """``HEAD`` of ``repo`` (``+dirty`` with uncommitted tracked changes)."""
    def git(*args):
        return subprocess.run(['git', '-C', repo, *args], text=True,
                              capture_output=True).stdout.strip()
    head = git('rev-parse', 'HEAD') or 'unknown'
    dirty = git('status', '--porcelain', '--untracked-files=no')
    return head + ('+dirty' if dirty else '')


@dataclass
class RunSpec:
    """Everything a run needs besides its entry and seed."""
    repo: str
    work_dir: str
    results_dir: str
    schedule: Schedule
    probe_schedule: Schedule = field(default_factory=Schedule)
    ann_file: Optional[str] = None
    threads: int = 1
    nice: int = 19
    validate: bool = False


def result_path(spec: RunSpec, entry: Entry, seed: int) -> str:
    return osp.join(spec.results_dir,
                    f'{entry.name.replace(">", "+")}_seed{seed}.json')
