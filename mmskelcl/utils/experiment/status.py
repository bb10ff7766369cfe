"""Where a grid stands: per run finished / training / stopped / waiting,
and the time it still needs.

Read from the grid's folders only (nothing is started or changed): a run
is *finished* when its JSON exists with the run's identity, a stage is
*done* when its folder holds ``done.json``, and a stage in progress
reports the last iteration of its ``scalars.json`` and its last checkpoint
(an interrupted run resumes from that checkpoint, so iterations logged
after it are done again). A started run is *stopped* when no process
works on it (its ``run.lock`` is released, or names a process of this host
that is gone): it resumes when the grid runs again. Seconds per iteration
are the median logged ``time`` of a stage's last 20 log lines; a waiting
run is estimated from the runs of the same config, else from every run of
the grid.
"""
import json
import os.path as osp
from statistics import median
from typing import Dict, List, Optional

from .grid import (_checkpoint_iter, _done, identity, plan, run_active,
                   stage_base)
from .logs import read_scalars
from .runs import Entry, RunSpec, result_path
from .table import run_minutes


def _sec_per_iter(rows: List[dict]) -> Optional[float]:
    times = [r['time'] for r in rows[-20:] if 'time' in r]
    return median(times) if times else None


def run_status(spec: RunSpec, entry: Entry, seed: int) -> dict:
    """State of one run: ``state`` is ``finished`` (with ``top1``),
    ``training`` / ``stopped`` / ``waiting`` (with ``stages``: per stage
    its iterations ``done`` (logged), ``saved`` (in the last checkpoint)
    and ``total``, and ``sec_per_iter`` where logged) or ``conflict`` (its
    JSON holds another run). ``training`` where a process works on it, or
    where that cannot be told (:func:`~.grid.run_active`) and it has
    logged iterations; ``stopped`` where it has and none does."""
    stages = plan(spec, entry)
    run_dir = osp.join(spec.work_dir, entry.name.replace('>', '+'),
                       f'seed{seed}')
    info = []
    for st in stages:
        folder = osp.join(stage_base(spec, run_dir, st, seed), st['name'])
        total = st['resolved']['total_iters']
        rows = read_scalars(folder) if osp.isdir(folder) else []
        row = dict(name=st['name'], config=st['config'], folder=folder,
                   total=total, done=0, saved=0,
                   sec_per_iter=_sec_per_iter(rows))
        if _done(folder) is not None:
            row['done'] = row['saved'] = total
        elif rows:
            row['done'] = rows[-1]['step']
            row['saved'] = _checkpoint_iter(
                folder, st['resolved']['iters_per_epoch']) or 0
        info.append(row)
    base = dict(entry=entry.name, seed=seed, stages=info)
    out = result_path(spec, entry, seed)
    if osp.isfile(out):
        with open(out) as f:
            rec = json.load(f)
        if rec.get('identity') == identity(entry, seed, stages, spec.repo):
            return dict(base, state='finished', top1=rec['top1'],
                        minutes=run_minutes(rec))
        return dict(base, state='conflict')
    started = any(row['done'] > 0 for row in info)
    active = run_active(run_dir)
    if active or (started and active is None):
        return dict(base, state='training')
    return dict(base, state='stopped' if started else 'waiting')


def remaining_seconds(runs: List[dict]) -> Dict[str, float]:
    """Seconds each unfinished run still needs (``entry seed`` -> s), from
    the iterations after its last checkpoint. An untimed stage takes the
    median pace of its config's timed stages, else of the timed stages of
    its kind (``pretrain`` or ``train``: a probe untimed beside timed
    probes and pretrainings is paced as a probe), else of every timed
    stage; ``nan`` where nothing of the grid has been timed yet. A stage
    that runs share (a pretraining, same ``folder``) counts once, for the
    first of them."""
    by_config: Dict[str, List[float]] = {}
    by_name: Dict[str, List[float]] = {}
    for r in runs:
        for st in r.get('stages', []):
            if st['sec_per_iter']:
                by_config.setdefault(st['config'], []).append(
                    st['sec_per_iter'])
                by_name.setdefault(st['name'], []).append(
                    st['sec_per_iter'])
    every = [v for vals in by_config.values() for v in vals]

    def pace(st: dict) -> float:
        for pool in (by_config.get(st['config']), by_name.get(st['name']),
                     every):
            if pool:
                return median(pool)
        return float('nan')

    out = {}
    counted = set()
    for r in runs:
        if r['state'] not in ('training', 'stopped', 'waiting'):
            continue
        total = 0.0
        for st in r['stages']:
            folder = st.get('folder')
            if folder is not None:
                if folder in counted:
                    continue
                counted.add(folder)
            rate = st['sec_per_iter'] or pace(st)
            total += (st['total'] - st['saved']) * rate
        out[f'{r["entry"]} {r["seed"]}'] = total
    return out


def _stage_text(st: dict) -> str:
    if st['done'] >= st['total']:
        return f'{st["name"]} done'
    text = f'{st["name"]} {st["done"]}/{st["total"]} it'
    return text + (f' (checkpoint at {st["saved"]})' if st['done'] else '')


def format_status(runs: List[dict], jobs: int) -> str:
    """Plain-text report: one line per run and the grid's remaining time
    with ``jobs`` runs at a time (tests excluded, a few minutes each)."""
    left = remaining_seconds(runs)
    lines = []
    for r in runs:
        head = f'{r["entry"]} seed {r["seed"]}: {r["state"]}'
        if r['state'] == 'finished':
            head += f', top-1 {r["top1"]:.2f}'
            if r['minutes'] is not None:
                head += f' ({r["minutes"]:.0f} min)'
        elif r['state'] == 'conflict':
            head += ' (its JSON holds another schedule or config)'
        else:
            parts = [_stage_text(st) for st in r['stages']]
            head += ', ' + ', '.join(parts)
            sec = left[f'{r["entry"]} {r["seed"]}']
            if sec == sec:  # not nan
                head += f', about {sec / 60:.0f} min left'
        lines.append(head)
    count = {s: sum(r['state'] == s for r in runs)
             for s in ('finished', 'training', 'stopped', 'waiting',
                       'conflict')}
    total = sum(left.values())
    tail = ', '.join(f'{n} {s}' for s, n in count.items() if n)
    if left and total == total:
        tail += (f'; about {total / 3600:.1f} h of runs left, '
                 f'{total / 3600 / max(jobs, 1):.1f} h at {jobs} at a time')
    return '\n'.join(lines + [tail])
