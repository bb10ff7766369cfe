"""tools/misc/results_nwucla.sh (make results-nwucla): the one command of
the NW-UCLA grid reproduces the runs behind the committed JSONs (its
``status`` finds each of them finished: same entry, seed, schedule and
config hash), plans every other run of both parts, and its ``table`` mode
fills the page's table block from the JSONs."""
import glob
import json
import os
import os.path as osp
import pickle
import re
import shutil
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'misc', 'results_nwucla.sh')
COMMITTED = osp.join(ROOT, 'docs', 'results', 'nwucla')


def _fake_nwucla(path):
    """The split sizes of the real NW-UCLA pickle (1,020 training clips of
    views 1-2, 464 of view 3): all that planning a schedule reads."""
    ann = [dict(frame_dir=f'a01_s01_e{i:02d}_v0{1 + (i >= 1020) * 2}',
                label=i % 10, total_frames=20) for i in range(1484)]
    data = dict(split=dict(train=[a['frame_dir'] for a in ann[:1020]],
                           val=[a['frame_dir'] for a in ann[1020:]]),
                annotations=ann)
    with open(path, 'wb') as f:
        pickle.dump(data, f)


def _script(mode, tmp, **env):
    env = dict(dict(os.environ, OMP_NUM_THREADS='1', PY=sys.executable,
                    ANN=str(tmp / 'nwucla.pkl'), WORK=str(tmp / 'work')),
               **env)
    return subprocess.run(['bash', SCRIPT, mode], env=env, cwd=str(tmp),
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_status_finds_the_committed_runs_and_plans_the_rest(tmp_path):
    _fake_nwucla(tmp_path / 'nwucla.pkl')
    done = []
    for path in sorted(glob.glob(osp.join(COMMITTED, '*_seed*.json'))):
        with open(path) as f:
            rec = json.load(f)
        done.append((rec['entry'], rec['seed'], rec['top1']))
    assert done, 'no committed NW-UCLA run'
    res = _script('status', tmp_path, RESULTS=COMMITTED)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = dict(re.match(r'(.+ seed \d+): (.*)', line).groups()
                 for line in res.stdout.splitlines() if ' seed ' in line)
    for entry, seed, top1 in done:
        assert lines[f'{entry} seed {seed}'].startswith(
            f'finished, top-1 {top1:.2f}'), (entry, seed)
    # part 1: 5 entries x 3 seeds; part 2: 8 + 1 + 2 + 4 entries x 2 seeds
    assert len(lines) == 15 + 30
    waiting = {k: v for k, v in lines.items() if v.startswith('waiting')}
    assert len(waiting) == 45 - len(done)
    # every run not finished yet is planned from zero: 30 passes at repeat
    # 5 and batch 16 are 6 epochs of 5100 // 16 = 318 iterations;
    # SkeAttnCLR's batch 64 gives 1020 // 64 = 15 iterations a pass
    for name, text in waiting.items():
        if name.startswith('skeattnclr'):
            assert text == 'waiting, pretrain 0/150 it, train 0/225 it'
        elif name.startswith('random>'):
            assert text == 'waiting, train 0/225 it'
        else:
            assert text == 'waiting, train 0/1908 it', name
    assert not (tmp_path / 'work').exists()  # status starts nothing


@pytest.mark.slow
def test_table_mode_fills_the_block_from_the_jsons(tmp_path):
    results = tmp_path / 'res'
    shutil.copytree(COMMITTED, results)
    doc = tmp_path / 'page.md'
    doc.write_text(f'intro\n<!-- experiment-table {results} -->\n'
                   '<!-- /experiment-table -->\nend\n')
    res = _script('table', tmp_path, RESULTS=str(results), DOC=str(doc))
    assert res.returncode == 0, res.stderr[-2000:]
    text = doc.read_text()
    for path in glob.glob(str(results / '*_seed*.json')):
        with open(path) as f:
            rec = json.load(f)
        assert f'| {rec["top1"]:.2f} |' in text, path
    # every planned entry has a row, pending where no JSON exists yet
    for entry in ('csre_hyperformer_j', 'hcn_j',
                  'random>skeattnclr_stgcn_j_linear'):
        assert f'| `{entry}` |' in text
    assert (results / 'table.png').stat().st_size > 1000
    assert text.startswith('intro\n') and text.endswith('end\n')


def _stub_python(tmp, fail_group=None):
    """A stand-in for PY that logs each call (one line: its arguments) and
    exits 1 for the experiment call whose first entry is ``fail_group``."""
    log = tmp / 'calls.txt'
    stub = tmp / 'py'
    stub.write_text('#!/bin/bash\n'
                    f'echo "$*" >> {log}\n'
                    'sleep 0.2\n'
                    f'[[ "$3" == *{fail_group or "-none-"}* ]] && exit 1\n'
                    'exit 0\n')
    stub.chmod(0o755)
    (tmp / 'nwucla.pkl').write_bytes(b'')  # present: no conversion
    return str(stub), log


@pytest.mark.parametrize('jobs', (1, 2))
def test_run_mode_starts_one_worker_per_job(tmp_path, jobs):
    """JOBS workers, each walking every group with --jobs 1 (the runs'
    locks share them out), then one table after the last worker."""
    stub, log = _stub_python(tmp_path)
    res = _script('run', tmp_path, PY=stub, JOBS=str(jobs))
    assert res.returncode == 0, res.stderr[-2000:]
    calls = log.read_text().splitlines()
    runs = [c for c in calls if c.startswith('tools/experiment.py run ')]
    firsts = ['configs/nwucla/ctrgcn_j.py', 'configs/nwucla/hcn_j.py',
              'configs/nwucla/skeattnclr_stgcn_j_pretrain.py>',
              'configs/nwucla/agcn_j.py']
    assert len(runs) == 4 * jobs
    for first in firsts:
        assert sum(c.split()[2].startswith(first) for c in runs) == jobs
    for c in runs:
        assert ' --jobs 1 --threads-per-job 1' in c
    assert calls[-1].startswith('tools/experiment.py table ')
    assert sum(c.startswith('tools/experiment.py table') for c in calls) == 1


def test_a_failed_group_fails_the_command_after_the_others_ran(tmp_path):
    stub, log = _stub_python(tmp_path, fail_group='hcn_j')
    res = _script('run', tmp_path, PY=stub, JOBS='2')
    assert res.returncode == 1
    calls = log.read_text().splitlines()
    # both workers went on to the later groups, and the table was written
    assert sum('agcn_j.py' in c.split()[2] for c in calls
               if c.startswith('tools/experiment.py run')) == 2
    assert calls[-1].startswith('tools/experiment.py table ')
