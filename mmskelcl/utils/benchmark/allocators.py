"""The same benchmark under several memory allocators, as ratios.

``LD_PRELOAD`` acts only when a process starts, so each allocator runs the
benchmark in its own child process (``tools/benchmark.py ... --allocator
X``). The children run one after the other, in alternating order over the
repeats (A B C, C B A, ...) so that a slow drift of the machine hits every
allocator alike; for each child the kernel's resource accounting
(``os.wait4``) gives its user and system CPU seconds and minor page faults.
Every child reports the allocator actually mapped into it, so a preload
that did not happen is an error, not a mislabelled row.
"""
import json
import os
import subprocess
import sys
from statistics import median
from typing import Any, Dict, List, Sequence

from .. import allocator as alloc

# the step time of each benchmark mode's JSON, first key found
STEP_KEYS = ('train_step_ms', 'pretrain_step_ms')


def run_child(cmd: List[str], kind: str) -> Dict[str, Any]:
    """Run one benchmark child under allocator ``kind``.

    Returns:
        dict: the child's JSON (last stdout line) plus ``user_s``,
        ``sys_s``, ``minor_faults`` and ``wall_s`` of the child.
    """
    env = alloc.child_env(int(os.environ.get('OMP_NUM_THREADS', '0'))
                          or alloc.available_cores(), kind)
    t0 = os.times().elapsed
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f'benchmark under {kind} exited with '
                           f'{proc.returncode}: {" ".join(cmd)}')
    lines = [ln for ln in out.splitlines() if ln.strip()]
    res = json.loads(lines[-1])
    res.update(user_s=usage.ru_utime, sys_s=usage.ru_stime,
               minor_faults=usage.ru_minflt,
               wall_s=os.times().elapsed - t0)
    want = alloc.resolve(kind)[0]
    if res.get('allocator') != want:
        raise RuntimeError(f'asked for {kind} ({want}), the child ran with '
                           f'{res.get("allocator")}')
    return res


def step_ms(res: Dict[str, Any]) -> float:
    """The step time of a benchmark JSON."""
    for key in STEP_KEYS:
        if key in res:
            return res[key]
    raise KeyError(f'no step time ({", ".join(STEP_KEYS)}) in {sorted(res)}')


def compare_allocators(bench_argv: Sequence[str], kinds: Sequence[str],
                       repeats: int = 1,
                       tool: str = None) -> Dict[str, Any]:
    """Run ``tools/benchmark.py bench_argv`` once per allocator and repeat.

    Args:
        bench_argv: the benchmark's own arguments (no ``--allocator``).
        kinds: allocators; the first is the reference of the ratios.
        repeats: rounds; the order alternates between rounds.
        tool: path of ``tools/benchmark.py``.

    Returns:
        dict: ``rows`` (per allocator: median step ms, ``speedup`` =
        reference step / step, CPU user/sys seconds, minor faults, each
        round's step ms) and ``command``.
    """
    missing = [k for k in kinds if k != 'glibc' and alloc.find(k) is None]
    if missing:
        raise SystemExit('error: allocator library not found: ' + ', '.join(
            f'{k} ({alloc.INSTALL_HINT[k]})' for k in missing))
    runs: Dict[str, List[Dict[str, Any]]] = {k: [] for k in kinds}
    for r in range(repeats):
        for kind in (kinds if r % 2 == 0 else list(reversed(kinds))):
            cmd = [sys.executable, tool, *bench_argv, '--allocator', kind]
            print(f'[{kind}, round {r + 1}/{repeats}]', ' '.join(cmd),
                  file=sys.stderr, flush=True)
            runs[kind].append(run_child(cmd, kind))
    ref = median(step_ms(x) for x in runs[kinds[0]])
    rows = []
    for kind in kinds:
        ms = [step_ms(x) for x in runs[kind]]
        rows.append(dict(
            allocator=kind, step_ms=median(ms), step_ms_rounds=ms,
            speedup=ref / median(ms),
            user_s=median(x['user_s'] for x in runs[kind]),
            sys_s=median(x['sys_s'] for x in runs[kind]),
            minor_faults=median(x['minor_faults'] for x in runs[kind]),
            threads=runs[kind][0].get('threads')))
    return dict(rows=rows, reference=kinds[0], repeats=repeats,
                command=' '.join(['tools/benchmark.py', *bench_argv]))


def format_allocators(res: Dict[str, Any]) -> str:
    """A markdown table of :func:`compare_allocators`."""
    lines = [f'`{res["command"]}` ({res["repeats"]} round(s), one child '
             'process per allocator and round)', '',
             f'| allocator | step | vs {res["reference"]} | process user '
             '/ sys s | minor faults |', '|---|---|---|---|---|']
    for row in res['rows']:
        lines.append(
            f'| {row["allocator"]} | {row["step_ms"] / 1e3:.2f} s | '
            f'{row["speedup"]:.2f}x | {row["user_s"]:.0f} / '
            f'{row["sys_s"]:.0f} | {row["minor_faults"] / 1e6:.1f} M |')
    return '\n'.join(lines)
