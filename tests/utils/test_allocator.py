"""mmskelcl.utils.allocator: tcmalloc in the project's processes, the
switch that turns it off, the notice without the library and the thread
share of parallel processes. The allocator of a child is read from its own
``/proc/self/maps``, not from the environment it was given.

With ``MMSKELCL_REQUIRE_TCMALLOC=1`` (set by ``.ci/run``, which installs
``libtcmalloc-minimal4``) a missing library fails the tests that need it
instead of skipping them.
"""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mmskelcl.utils import allocator

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TCMALLOC = allocator.find('tcmalloc')
needs_tcmalloc = pytest.mark.skipif(
    TCMALLOC is None and os.environ.get('MMSKELCL_REQUIRE_TCMALLOC') != '1',
    reason='libtcmalloc not installed (apt-get install libtcmalloc-minimal4;'
    ' MMSKELCL_REQUIRE_TCMALLOC=1 makes this a failure)')

# a child that reports what its loader mapped, without importing torch
REPORT_MAPS = textwrap.dedent('''
    import sys
    maps = open('/proc/self/maps').read()
    print('tcmalloc' if 'libtcmalloc' in maps else
          'jemalloc' if 'libjemalloc' in maps else 'glibc')
''')


def _child(code: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code, *args], env=env,
                          capture_output=True, text=True, timeout=120)


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('MMSKELCL_ALLOCATOR') and k != 'LD_PRELOAD'}
    env.update(extra)
    return env


@needs_tcmalloc
def test_child_env_maps_tcmalloc_and_switch_off():
    assert TCMALLOC is not None, 'MMSKELCL_REQUIRE_TCMALLOC=1: not installed'
    on = _child(REPORT_MAPS, allocator.child_env(1, 'auto', _clean_env()))
    off = _child(REPORT_MAPS, allocator.child_env(1, 'glibc', _clean_env()))
    assert on.stdout.strip() == 'tcmalloc', on.stderr
    assert off.stdout.strip() == 'glibc', off.stderr


# a tool's start: tools/_preload.py re-executes the script, then the script
# prints its pid before and after (the re-exec keeps the pid) and the maps
PRELOAD_SCRIPT = textwrap.dedent('''
    import os, sys
    sys.path.insert(0, {tools!r})
    print('argv', sys.argv[1:], flush=True)
    import _preload
    maps = open('/proc/self/maps').read()
    print('mapped', 'tcmalloc' if 'libtcmalloc' in maps else 'glibc')
    print('line', _preload.allocator.describe(1))
''')


def _run_preload(tmp_path, env: dict) -> subprocess.CompletedProcess:
    script = tmp_path / 'tool.py'
    script.write_text(PRELOAD_SCRIPT.format(tools=osp.join(REPO, 'tools')))
    return subprocess.run([sys.executable, str(script), '--x', '1'],
                          env=env, capture_output=True, text=True,
                          timeout=120)


@needs_tcmalloc
def test_tool_start_reexecutes_once_with_tcmalloc(tmp_path):
    res = _run_preload(tmp_path, _clean_env())
    out = res.stdout.splitlines()
    # printed once before the re-exec (glibc) and once after it
    assert out.count("argv ['--x', '1']") == 2, res.stdout + res.stderr
    assert 'mapped tcmalloc' in out
    assert 'line allocator: tcmalloc; torch threads: 1 of' in res.stdout


@needs_tcmalloc
def test_switch_off_removes_an_inherited_preload(tmp_path):
    env = _clean_env(MMSKELCL_ALLOCATOR='glibc', LD_PRELOAD=TCMALLOC)
    res = _run_preload(tmp_path, env)
    assert 'mapped glibc' in res.stdout.splitlines(), res.stdout + res.stderr


def test_missing_library_runs_with_glibc_and_one_notice(tmp_path):
    code = textwrap.dedent(f'''
        import importlib.util, os
        spec = importlib.util.spec_from_file_location(
            'a', {osp.join(REPO, 'mmskelcl', 'utils', 'allocator.py')!r})
        a = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(a)
        a.search_dirs = lambda: [{str(tmp_path)!r}]
        a.ensure()  # nothing to preload: must return, not exec
        print('pid', os.getpid())
        print(a.describe(1))
    ''')
    res = _child(code, _clean_env())
    lines = res.stdout.splitlines()
    assert res.returncode == 0, res.stderr
    assert len([ln for ln in lines if ln.startswith('pid')]) == 1
    assert lines[-1].startswith('allocator: glibc (tcmalloc not found')
    assert 'apt-get install libtcmalloc-minimal4' in lines[-1]
    assert res.stderr.count('tcmalloc') == 0  # said once, in the log line


def test_bad_switch_value_is_refused():
    with pytest.raises(SystemExit, match='MMSKELCL_ALLOCATOR=.tc.: choose'):
        allocator.requested({'MMSKELCL_ALLOCATOR': 'tc'})


def test_preload_env_keeps_other_preloads_and_sets_jemalloc_conf(tmp_path):
    je = tmp_path / 'libjemalloc.so.2'
    tc = tmp_path / 'libtcmalloc_minimal.so.4'
    je.write_bytes(b'')
    tc.write_bytes(b'')
    orig = allocator.search_dirs
    allocator.search_dirs = lambda: [str(tmp_path)]
    try:
        base = {'LD_PRELOAD': f'/x/libfoo.so:{tc}'}
        env = allocator.preload_env('jemalloc', base)
        off = allocator.preload_env('glibc', base)
    finally:
        allocator.search_dirs = orig
    assert env['LD_PRELOAD'] == f'{je}:/x/libfoo.so'
    assert env['MALLOC_CONF'].startswith('oversize_threshold:1')
    assert off['LD_PRELOAD'] == '/x/libfoo.so' and 'MALLOC_CONF' not in off
    assert base['LD_PRELOAD'] == f'/x/libfoo.so:{tc}'  # input unchanged


@pytest.mark.parametrize('jobs,cores,want', [(1, 2, 2), (2, 2, 1), (3, 2, 1),
                                             (2, 16, 8), (3, 16, 5)])
def test_share_threads_sum_fits_the_cores(jobs, cores, want):
    got = allocator.share_threads(jobs, cores)
    assert got == want
    assert jobs * got <= max(cores, jobs)


def test_rank_threads_caps_local_ranks(monkeypatch):
    monkeypatch.setattr(allocator, 'available_cores', lambda: 2)
    assert allocator.rank_threads(2, {'LOCAL_WORLD_SIZE': '2'}) == 1
    assert allocator.rank_threads(2, {'LOCAL_WORLD_SIZE': '1'}) == 2
    assert allocator.rank_threads(1, {}) == 1
    env = allocator.child_env(1, 'glibc', {'OMP_NUM_THREADS': '2'})
    assert env['OMP_NUM_THREADS'] == env['MKL_NUM_THREADS'] == '1'
