"""Run a grid of entries x seeds, ``jobs`` runs at a time.

Every stage of a run (``pretrain``, ``train``, ``test``) lives in its own
folder of ``<work dir>/<entry>/seed<k>/``; a finished stage leaves
``done.json`` (its wall and CPU seconds) and is not run again, a training
stage with a checkpoint but no ``done.json`` resumes (``--resume``). The
run's JSON is written last, atomically; an existing JSON of the same run
(same entry, seed, schedule and config hash) means the run is finished.
A run holds ``run.lock`` (``flock``, released when its process ends, so
never stale) in its folder while it works: a second grid over the same
work dir skips that run as *busy* instead of training it twice at once.
The file names its holder (``<pid> <host>``), and says ``released`` once
the run ends or fails, so that ``status`` tells a run in progress from one
whose process was killed (:func:`run_active`).

A pretraining is shared by the entries that pretrain alike (same config,
resolved options, annotation file and seed; e.g. ``PRE>LINEAR`` and
``PRE>FINETUNE``): it lives in ``<work dir>/_pretrain/<config>-<hash>/
seed<k>/`` and is trained once. Its folder's ``stage.lock`` is held while
it trains; a run that needs it meanwhile waits instead of training it a
second time.
"""
import fcntl
import hashlib
import json
import os
import os.path as osp
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import (IO, Callable, ContextManager, Dict, Iterator, List,
                    Optional, Tuple)

from ...engine.epoch_seed_hook import INITIAL_WEIGHTS
from ..safe_pickle import safe_load
from .logs import last_epoch_means
from .runs import (Entry, RunSpec, child_env, config_hash, git_commit,
                   load_config, result_path, run_child)
from .schedule import Schedule, schedule_options
from .table import run_minutes

SEED_OPTIONS = [
    'default_hooks.epoch_seed.type=EpochSeedHook',
    'train_dataloader.persistent_workers=False',
]


class RunError(RuntimeError):
    """A stage failed; the message names its log."""


class RunBusy(RuntimeError):
    """Another process holds the run's lock (it is running that run)."""


@contextmanager
def _flock(path: str, on_busy: Callable[[], None]) -> Iterator[IO[str]]:
    """Hold an exclusive ``flock`` on ``path`` (yields the file, opened for
    appending); while another process holds it, ``on_busy()`` either
    raises or returns, and then this waits."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'a') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            busy = False
        except BlockingIOError:
            busy = True
        if busy:
            on_busy()
            fcntl.flock(f, fcntl.LOCK_EX)
        yield f


def _rewrite(f: IO[str], text: str) -> None:
    f.truncate(0)
    f.write(text)
    f.flush()


@contextmanager
def run_lock(run_dir: str) -> Iterator[None]:
    """Hold ``<run_dir>/run.lock`` or raise :class:`RunBusy`; the file
    names the holder while it holds it and says ``released`` after."""
    path = osp.join(run_dir, 'run.lock')

    def busy() -> None:
        raise RunBusy(f'another process is running it (holds {path})')

    with _flock(path, busy) as f:
        _rewrite(f, f'{os.getpid()} {socket.gethostname()}\n')
        try:
            yield
        finally:
            _rewrite(f, 'released\n')


def run_active(run_dir: str) -> Optional[bool]:
    """Whether a process works on the run in ``run_dir`` now, from its
    ``run.lock``: ``False`` once released, or when the holder it names (on
    this host) is gone (killed); ``None`` where that cannot be told (never
    locked, a holder on another host, a lock written before holders were
    recorded). A process id reused since is taken for the holder."""
    try:
        with open(osp.join(run_dir, 'run.lock')) as f:
            words = f.read().split()
    except FileNotFoundError:
        return None
    if words == ['released']:
        return False
    if len(words) != 2 or not words[0].isdigit() \
            or words[1] != socket.gethostname():
        return None
    try:
        os.kill(int(words[0]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return True


def stage_lock(base: str,
               say: Callable[[str], None]) -> ContextManager[IO[str]]:
    """Hold ``<base>/stage.lock``, waiting (and saying so) while another
    run trains the shared stage."""
    return _flock(osp.join(base, 'stage.lock'),
                  lambda: say(f'waiting for {base}: another run trains it'))


def stage_base(spec: RunSpec, run_dir: str, stage: dict, seed: int) -> str:
    """Folder holding a stage's folder and log: the run's own, or for a
    pretraining the one its entries share (``_pretrain/<config>-<hash>``,
    the hash of the resolved config, options and annotation file)."""
    if stage['name'] != 'pretrain':
        return run_dir
    stem = osp.splitext(osp.basename(stage['config']))[0]
    ann = osp.abspath(spec.ann_file) if spec.ann_file else ''
    key = hashlib.sha256(f'{stage["hash"]} {ann}'.encode()).hexdigest()
    return osp.join(spec.work_dir, '_pretrain', f'{stem}-{key[:12]}',
                    f'seed{seed}')


def _rel(path: str, repo: str) -> str:
    path = osp.abspath(path)
    return osp.relpath(path, repo) if path.startswith(repo + os.sep) \
        else path


def plan(spec: RunSpec, entry: Entry) -> List[dict]:
    """The stages of an entry with their ``--cfg-options`` and identity."""
    stages = []
    probe_init = None
    if entry.pretrain is not None:
        if entry.pretrain != 'random':
            stages.append(dict(name='pretrain', config=entry.pretrain,
                               schedule=spec.schedule))
            probe_init = 'pretrained'
        else:
            probe_init = 'random'
    stages.append(dict(name='train', config=entry.config,
                       schedule=(spec.probe_schedule if probe_init else
                                 spec.schedule)))
    for st in stages:
        cfg = load_config(st['config'], spec.ann_file)
        opts, resolved = schedule_options(cfg, st['schedule'])
        st['options'] = opts + SEED_OPTIONS
        st['resolved'] = resolved
        st['hash'] = config_hash(st['config'], st['options'])
    stages[-1]['init'] = probe_init
    return stages


def identity(entry: Entry, seed: int, stages: List[dict],
             repo: str) -> dict:
    return dict(entry=entry.name, seed=seed, stages=[
        dict(name=s['name'], config=_rel(s['config'], repo),
             config_hash=s['hash'], schedule=s['schedule'].to_dict(),
             init=s.get('init')) for s in stages])


def _done(folder: str) -> Optional[dict]:
    path = osp.join(folder, 'done.json')
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return None


def _mark_done(folder: str, info: dict) -> None:
    with open(osp.join(folder, 'done.json'), 'w') as f:
        json.dump(info, f)


def _initial_weights(folder: str) -> Optional[str]:
    """Fingerprint of the stage's initial backbone and classifier weights
    (written by ``EpochSeedHook`` when the stage started; ``None`` for runs
    of a version without it)."""
    path = osp.join(folder, INITIAL_WEIGHTS)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f).get('fingerprint')


def _last_checkpoint(folder: str) -> Optional[str]:
    path = osp.join(folder, 'last_checkpoint')
    if osp.isfile(path):
        with open(path) as f:
            ckpt = f.read().strip()
        return ckpt if osp.isfile(ckpt) else None
    return None


def _checkpoint_iter(folder: str, iters_per_epoch: int) -> Optional[int]:
    """Iterations covered by the stage's last checkpoint (``0``: none;
    ``None``: a checkpoint whose name gives no epoch)."""
    ckpt = _last_checkpoint(folder)
    if ckpt is None:
        return 0
    m = re.search(r'epoch_(\d+)\.pth$', ckpt)
    return int(m.group(1)) * iters_per_epoch if m else None


def _stage(spec: RunSpec, cmd: List[str], folder: str, log: str) -> dict:
    os.makedirs(folder, exist_ok=True)
    rc, wall, cpu = run_child(cmd, spec.repo, child_env(spec.repo,
                                                        spec.threads),
                              log, spec.nice)
    if rc != 0:
        raise RunError(f'exit status {rc}: {" ".join(cmd[:3])} ... '
                       f'(log: {log})')
    return dict(wall_s=wall, cpu_s=cpu)


def run_one(spec: RunSpec, entry: Entry, seed: int,
            say: Callable[[str], None] = print) -> Tuple[str, dict]:
    """Run (or finish, or skip) one run; ``(status, record)`` with status
    ``'skipped'`` or ``'done'``; :class:`RunBusy` where another process
    holds the run's lock."""
    stages = plan(spec, entry)
    ident = identity(entry, seed, stages, spec.repo)
    out = result_path(spec, entry, seed)
    run_dir = osp.join(spec.work_dir, entry.name.replace('>', '+'),
                       f'seed{seed}')

    def finished() -> Optional[dict]:
        if not osp.isfile(out):
            return None
        with open(out) as f:
            old = json.load(f)
        if old.get('identity') == ident:
            return old
        raise RunError(f'{out} holds another run (schedule or config '
                       'differ); move it or use another --results-dir')

    old = finished()
    if old is not None:
        return 'skipped', old
    with run_lock(run_dir):
        old = finished()  # another process may have just finished it
        if old is not None:
            return 'skipped', old
        return _run_stages(spec, entry, seed, stages, ident, run_dir, out,
                           say)


def _train_stage(spec: RunSpec, entry: Entry, seed: int, st: dict,
                 ckpt: Optional[str], base: str,
                 say: Callable[[str], None]) -> Tuple[dict, str]:
    """Train one stage in ``<base>/<name>`` unless done; its timing and
    last checkpoint. ``ckpt``: the previous stage's last checkpoint."""
    folder = osp.join(base, st['name'])
    log = osp.join(base, f'{st["name"]}.log')
    final = osp.join(folder, f'epoch_{st["resolved"]["epochs"]}.pth')
    done = _done(folder)
    if done is not None:
        return done, final
    opts = list(st['options'])
    if st.get('init') == 'pretrained':
        opts.append(f'model.backbone.init_cfg.checkpoint={ckpt}')
    elif st.get('init') == 'random':
        opts.append('model.backbone.init_cfg=None')
    ann = ['--ann-file', spec.ann_file] if spec.ann_file else []
    cmd = [sys.executable, osp.join(spec.repo, 'tools', 'train.py'),
           osp.abspath(st['config']), '--work-dir', folder,
           '--seed', str(seed), *ann]
    resumed = _last_checkpoint(folder) is not None
    # where this attempt starts: the attempts before it were not timed,
    # so a table scales its time to the whole stage
    start = _checkpoint_iter(folder, st['resolved']['iters_per_epoch'])
    if resumed:
        cmd.append('--resume')
    if not spec.validate:
        cmd.append('--no-validate')
    say(f'[{entry.name} seed {seed}] {st["name"]}'
        f'{" (resumed)" if resumed else ""}')
    done = _stage(spec, cmd + ['--cfg-options', *opts], folder, log)
    done.update(resumed=resumed, start_iter=start)
    if not osp.isfile(final):
        raise RunError(f'{final} missing after training (log: {log})')
    _mark_done(folder, done)
    return done, final


def _run_stages(spec: RunSpec, entry: Entry, seed: int, stages: List[dict],
                ident: dict, run_dir: str, out: str,
                say: Callable[[str], None]) -> Tuple[str, dict]:
    py = sys.executable
    ann = ['--ann-file', spec.ann_file] if spec.ann_file else []
    timing: Dict[str, dict] = {}
    ckpt = None
    for st in stages:
        base = stage_base(spec, run_dir, st, seed)
        if base == run_dir:
            done, ckpt = _train_stage(spec, entry, seed, st, ckpt, base,
                                      say)
        else:  # shared: trained by the first run that needs it
            with stage_lock(base, lambda m: say(
                    f'[{entry.name} seed {seed}] {m}')):
                done, ckpt = _train_stage(spec, entry, seed, st, ckpt, base,
                                          say)
            done = dict(done, shared=_rel(osp.join(base, st['name']),
                                          spec.work_dir))
        timing[st['name']] = done
    folder = osp.join(run_dir, 'test')
    dump = osp.join(folder, 'scores.pkl')
    done = _done(folder)
    if done is None:
        cmd = [py, osp.join(spec.repo, 'tools', 'test.py'),
               osp.abspath(stages[-1]['config']), ckpt, '--work-dir',
               folder, '--dump', dump, '--stream-names', 'run', *ann]
        extra = list(stages[-1]['schedule'].extra)  # e.g. model changes
        if extra:
            cmd += ['--cfg-options', *extra]
        say(f'[{entry.name} seed {seed}] test')
        done = _stage(spec, cmd, folder, osp.join(run_dir, 'test.log'))
        _mark_done(folder, done)
    timing['test'] = done
    metrics = safe_load(dump)['metrics']['run']
    train_dir = osp.join(run_dir, stages[-1]['name'])
    logged = last_epoch_means(train_dir, stages[-1]['resolved']['epochs'])
    initial = _initial_weights(train_dir)
    record = dict(
        identity=ident, entry=entry.name, seed=seed,
        config=_rel(stages[-1]['config'], spec.repo),
        config_hash=stages[-1]['hash'],
        pretrain=(None if entry.pretrain is None else
                  entry.pretrain if entry.pretrain == 'random' else
                  _rel(entry.pretrain, spec.repo)),
        schedule=stages[-1]['schedule'].to_dict(),
        resolved_schedule={s['name']: s['resolved'] for s in stages},
        ann_file=spec.ann_file, git_commit=git_commit(spec.repo),
        top1=100 * metrics['top1'], top5=100 * metrics['top5'],
        mean_class=100 * metrics['mean1'],
        wall_s=sum(t['wall_s'] for t in timing.values()),
        cpu_s=sum(t['cpu_s'] for t in timing.values()),
        stages=timing, threads=spec.threads, host=socket.gethostname(),
        losses={k: v for k, v in logged.items() if k.startswith('loss')},
        anchors={k: v for k, v in logged.items() if k.endswith('_anchors')},
        initial_weights=initial,
        finished=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    os.makedirs(spec.results_dir, exist_ok=True)
    tmp = out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=1, sort_keys=True)
    os.replace(tmp, out)
    return 'done', record


def run_grid(spec: RunSpec, entries: List[Entry], seeds: List[int],
             jobs: int = 1, seed_major: bool = True) -> List[dict]:
    """Every entry x seed, ``jobs`` at a time, in seed-major order (each
    seed completes its set of entries before the next seed starts)."""
    order = ([(e, s) for s in seeds for e in entries] if seed_major else
             [(e, s) for e in entries for s in seeds])
    lock = threading.Lock()

    def say(msg: str) -> None:
        with lock:
            print(time.strftime('%H:%M:%S'), msg, flush=True)

    def one(item):
        entry, seed = item
        try:
            status, rec = run_one(spec, entry, seed, say)
        except RunBusy as err:  # another grid runs it: leave it there
            say(f'[{entry.name} seed {seed}] busy: {err}')
            return dict(entry=entry.name, seed=seed, status='busy')
        except Exception as err:  # report, go on with the other runs
            say(f'[{entry.name} seed {seed}] FAILED: {err}')
            return dict(entry=entry.name, seed=seed, status='failed',
                        error=str(err))
        mins = run_minutes(rec)
        say(f'[{entry.name} seed {seed}] {status}: top-1 {rec["top1"]:.2f}'
            + (f' ({mins:.1f} min)' if mins is not None else ''))
        return dict(entry=entry.name, seed=seed, status=status, record=rec)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, order))
