"""tools/experiment.py: the table against a hand computation (fast), and on
the demo data with a tiny schedule (slow): two configs x two seeds give
four JSONs whose table matches them, finished runs are not rerun, and a
run killed after its first checkpoint resumes to the result of an
uninterrupted run."""
import json
import os
import os.path as osp
import pickle
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import pytest

from mmskelcl.utils.experiment.table import (load_results, summarize,
                                             to_markdown, write_table)
from tool_helpers import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'experiment.py')


def _record(entry, seed, top1, anchors=None):
    return dict(entry=entry, seed=seed, top1=top1, top5=100.0,
                mean_class=top1, wall_s=60.0 * seed, anchors=anchors or {})


def test_pairs_leave_out_seeds_that_started_differently(tmp_path):
    """Seeds whose method and baseline runs recorded different initial
    weights are not paired; unknown fingerprints and self-supervised
    probes (a pretrained backbone by design) are."""
    def rec(entry, seed, top1, init, pretrain=None):
        r = _record(entry, seed, top1)
        r.update(initial_weights=init, pretrain=pretrain)
        return r
    recs = [rec('ctrgcn_j', 1, 80.0, 'aaaa'), rec('ctrgcn_j', 2, 84.0, 'bbbb'),
            rec('ctrgcn_j', 3, 82.0, None),
            rec('csre_ctrgcn_j', 1, 83.0, 'aaaa'),
            rec('csre_ctrgcn_j', 2, 83.5, 'zzzz'),  # another start
            rec('csre_ctrgcn_j', 3, 81.0, 'cccc'),  # baseline unknown
            rec('random>lin', 1, 10.0, 'r1', 'random'),
            rec('pre>lin', 1, 30.0, 'p1', 'configs/pre.py')]
    for r in recs:
        name = r['entry'].replace('>', '+')
        with open(tmp_path / f'{name}_seed{r["seed"]}.json', 'w') as f:
            json.dump(r, f)
    s = summarize(load_results(str(tmp_path)))
    pairs = {p['entry']: p for p in s['pairs']}
    csre = pairs['csre_ctrgcn_j']
    assert csre['diffs'] == {1: pytest.approx(3.0), 3: pytest.approx(-1.0)}
    assert csre['unpaired'] == [2] and csre['n'] == 2 and csre['wins'] == 1
    assert csre['mean'] == pytest.approx(1.0)
    assert pairs['pre>lin']['diffs'] == {1: pytest.approx(20.0)}
    md = to_markdown(s)
    assert 'Left out of `csre_ctrgcn_j` - `ctrgcn_j`: seed 2 (the two runs ' \
        'started from different initial weights).' in md
    assert md.count('Left out of') == 1


def test_cancelling_diffs_print_as_zero(tmp_path):
    """Paired diffs of -9 and +9 clips of 464 (NW-UCLA's SkeletonGCL seeds
    1 and 2; their float mean is -7e-15) give a mean and a t statistic
    printed as +0.00, not -0.00."""
    recs = [_record('ctrgcn_j', 1, 414 / 464 * 100),
            _record('ctrgcn_j', 2, 395 / 464 * 100),
            _record('skeletongcl_ctrgcn_j', 1, 405 / 464 * 100),
            _record('skeletongcl_ctrgcn_j', 2, 404 / 464 * 100)]
    for r in recs:
        with open(tmp_path / f'{r["entry"]}_seed{r["seed"]}.json', 'w') as f:
            json.dump(r, f)
    s = summarize(load_results(str(tmp_path)))
    (pair, ) = s['pairs']
    assert pair['mean'] != 0 and abs(pair['mean']) < 1e-9  # the residue
    row = next(line for line in to_markdown(s).splitlines()
               if line.startswith('| `skeletongcl_ctrgcn_j` - '))
    assert row.split(' | ')[1:] == ['+0.00 +- 2.74', '-1.94', '+1.94',
                                    '1/2', '+0.00 |']
    assert '-0.00' not in to_markdown(s)


def _png_size(path):
    """(width, height) in pixels, from the PNG header."""
    with open(path, 'rb') as f:
        head = f.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n'
    return (int.from_bytes(head[16:20], 'big'),
            int.from_bytes(head[20:24], 'big'))


def test_plot_panels_group_each_baseline_with_its_methods():
    """The plot's columns: a baseline with the methods paired with it (a
    method listed after other encoders joins its baseline's column; one
    without a seed in common stands alone, as does an unpaired entry), in
    table order; the tick labels drop what the column shares."""
    from mmskelcl.utils.experiment.table import families, short_label
    pre = 'skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear'
    rnd = 'random>skeattnclr_stgcn_j_linear'
    runs = {'ctrgcn_j': [1, 2], 'csre_ctrgcn_j': [1, 2], 'hcn_j': [1],
            'csre_hcn_j': [2], 'cacl_frhead_csre_ctrgcn_j': [1],
            'stgcnpp_j': [1], rnd: [1], pre: [1]}
    results = {e: {k: _record(e, k, 80.0 + k) for k in seeds}
               for e, seeds in runs.items()}
    s = summarize(results, expect=['ctrgcn_j:1,2', 'hcn_j:1',
                                   'csre_hcn_j:2', 'csre_ctrgcn_j:1,2',
                                   'cacl_frhead_csre_ctrgcn_j:1'])
    got = [([r['entry'] for r in rows], [p['entry'] for p in pairs])
           for rows, pairs in families(s)]
    assert got == [
        (['ctrgcn_j', 'csre_ctrgcn_j', 'cacl_frhead_csre_ctrgcn_j'],
         ['csre_ctrgcn_j', 'cacl_frhead_csre_ctrgcn_j']),
        (['hcn_j'], []), (['csre_hcn_j'], []),
        ([rnd, pre], [pre]), (['stgcnpp_j'], [])]
    assert [short_label(e, 'ctrgcn_j') for e in got[0][0]] == [
        'ctrgcn_j', 'csre', 'cacl_frhead_csre']
    assert short_label(pre, rnd) == 'skeattnclr_stgcn_j_pretrain'
    assert short_label(rnd, rnd) == 'random'
    assert short_label('hcn_j', 'ctrgcn_j') == 'hcn_j'  # not a suffix
    assert short_label('csre_hcn_j', 'csre_hcn_j') == 'csre_hcn_j'


def test_probe_title_drops_the_words_shared_with_the_pretraining():
    """A probe family's panel title: the probe less the words it shares
    with its pretraining, cut at a word boundary; the whole probe when only
    the random backbone is probed."""
    from mmskelcl.utils.experiment.table import probe_title
    rnd = 'random>skeattnclr_stgcn_j_linear_bn'
    pre = 'skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear_bn'
    assert probe_title(rnd, [rnd, pre]) == 'probe linear_bn'
    # 'skeattnclr_stgcn_j_l' in common with 'lite': cut back to the word
    lite = 'skeattnclr_stgcn_j_lite>skeattnclr_stgcn_j_linear_bn'
    assert probe_title(rnd, [rnd, lite]) == 'probe linear_bn'
    assert probe_title(rnd, [rnd]) == 'probe skeattnclr_stgcn_j_linear_bn'


def test_table_by_hand(tmp_path):
    recs = [_record('ctrgcn_j', 1, 80.0), _record('ctrgcn_j', 2, 84.0),
            _record('ctrgcn_j', 3, 82.0),
            _record('csre_ctrgcn_j', 1, 83.0, dict(csre_spatial_anchors=.5)),
            _record('csre_ctrgcn_j', 2, 83.5, dict(csre_spatial_anchors=0)),
            _record('csre_ctrgcn_j', 3, 81.0, dict(csre_spatial_anchors=1))]
    for r in recs:
        with open(tmp_path / f'{r["entry"]}_seed{r["seed"]}.json', 'w') as f:
            json.dump(r, f)
    with open(tmp_path / 'not_a_run.json', 'w') as f:
        json.dump(dict(suite='gpu'), f)
    s = summarize(load_results(str(tmp_path)),
                  expect=['frhead_ctrgcn_j:1,2,3', 'csre_ctrgcn_j:1,2,3,4'])
    rows = {r['entry']: r for r in s['rows']}
    assert rows['ctrgcn_j']['mean'] == pytest.approx(82.0)
    assert rows['ctrgcn_j']['sd'] == pytest.approx(2.0)  # sqrt(8 / 2)
    assert rows['csre_ctrgcn_j']['mean'] == pytest.approx(247.5 / 3)
    assert rows['csre_ctrgcn_j']['pending'] == [4]
    assert rows['csre_ctrgcn_j']['anchors'] == {
        'csre_spatial_anchors': pytest.approx(0.5)}
    assert rows['frhead_ctrgcn_j']['pending'] == [1, 2, 3]
    pairs = {p['entry']: p for p in s['pairs']}
    d = pairs['csre_ctrgcn_j']
    assert d['baseline'] == 'ctrgcn_j'
    assert d['diffs'] == {1: pytest.approx(3.0), 2: pytest.approx(-0.5),
                          3: pytest.approx(-1.0)}
    assert d['wins'] == 1 and d['n'] == 3
    assert d['mean'] == pytest.approx(0.5)
    assert d['sd'] == pytest.approx(((2.5**2 + 1 + 1.5**2) / 2)**0.5)
    md = to_markdown(s)
    assert '| `ctrgcn_j` | 82.00 +- 2.00 | 80.00 | 84.00 | 82.00 |' in md
    assert '| `frhead_ctrgcn_j` | pending | pending | pending | pending |' \
        in md
    assert d['t'] == pytest.approx(0.5 / (d['sd'] / 3**0.5))
    assert '| +0.50 +- 2.18 | +3.00 | -0.50 | -1.00 |  | 1/3 | +0.40 |' \
        in md
    out = tmp_path / 'table.md'
    assert write_table(str(tmp_path), out=str(out)) == out.read_text()
    assert (tmp_path / 'table.png').stat().st_size > 1000
    # the paired differences get their own row of panels: the same two
    # entries without a seed in common (no difference to draw) give the
    # one-row figure, lower
    alone = tmp_path / 'alone'
    alone.mkdir()
    for r in recs[:3] + [_record('csre_ctrgcn_j', 4, 83.0)]:
        with open(alone / f'{r["entry"]}_seed{r["seed"]}.json', 'w') as f:
            json.dump(r, f)
    write_table(str(alone), out=str(alone / 'table.md'))
    assert _png_size(alone / 'table.png')[1] < 0.7 * _png_size(
        tmp_path / 'table.png')[1]
    doc = tmp_path / 'doc.md'
    key = str(tmp_path)
    doc.write_text(f'head\n<!-- experiment-table {key} -->\nold\n'
                   '<!-- /experiment-table -->\ntail\n')
    text = write_table(key, into=str(doc))
    assert doc.read_text() == (f'head\n<!-- experiment-table {key} -->\n'
                               f'{text}<!-- /experiment-table -->\ntail\n')


def test_minutes_of_resumed_runs_count_the_whole_stage(tmp_path):
    """A resumed training stage was timed from its checkpoint on only: its
    minutes are scaled to every iteration; a resumed stage that does not
    say where it started is left out of the mean, not counted short."""
    from mmskelcl.utils.experiment.table import run_minutes

    def rec(seed, train, start=None, resumed=False):
        r = _record('ctrgcn_j', seed, 80.0)
        r['resolved_schedule'] = {'train': {'total_iters': 1908}}
        r['stages'] = {'train': dict(wall_s=train, resumed=resumed),
                       'test': dict(wall_s=30.0)}
        if start is not None:
            r['stages']['train']['start_iter'] = start
        return r
    fresh = rec(1, 3570.0, start=0)  # 59.5 + 0.5 min
    # from epoch 2 of 6 (636 of 1908 iterations): 1272 timed in 2400 s
    late = rec(2, 2400.0, start=636, resumed=True)
    unknown = rec(3, 2400.0, resumed=True)
    assert run_minutes(fresh) == pytest.approx(60.0)
    assert run_minutes(late) == pytest.approx((2400 * 1908 / 1272 + 30) / 60)
    assert run_minutes(unknown) is None
    assert run_minutes(_record('ctrgcn_j', 1, 80.0)) == 1.0  # no stages
    for r in (fresh, late, unknown):
        with open(tmp_path / f'ctrgcn_j_seed{r["seed"]}.json', 'w') as f:
            json.dump(r, f)
    row = summarize(load_results(str(tmp_path)))['rows'][0]
    assert row['minutes'] == pytest.approx((60.0 + 60.5) / 2)  # 3600 + 30 s
    assert '| 80.00 | 80.00 | 80.00 | 60 |  |' in to_markdown(
        summarize(load_results(str(tmp_path))))
    os.remove(tmp_path / 'ctrgcn_j_seed1.json')
    os.remove(tmp_path / 'ctrgcn_j_seed2.json')
    assert '| 80.00 |  |  |' in to_markdown(
        summarize(load_results(str(tmp_path))))


def test_jobs_times_threads_above_cores_is_refused(capsys):
    tool = load_tool('experiment.py')
    cores = os.cpu_count()
    with pytest.raises(SystemExit) as exc:
        tool.main(['run', osp.join(ROOT, 'configs/demo/ctrgcn_j.py'),
                   '--jobs', str(cores + 1), '--threads-per-job', '1'])
    assert 'exceeds the' in str(exc.value) and '--force' in str(exc.value)
    assert f'{cores + 1} job(s) x 1 thread(s)' in capsys.readouterr().out


# ---------------------------------------------------------------- slow part
# 4 clips per class (8 classes, 4 subjects, 1 for val): 24 train clips,
# batch 8 = 3 iterations per epoch; demo CTR-GCN shrunk further
TINY = ['model.backbone.base_channels=8', 'model.cls_head.in_channels=32']


def _run(args, tmp, options=(), **kw):
    cmd = [sys.executable, TOOL, 'run', *args, '--ann-file',
           str(tmp / 'demo.pkl'), '--batch-size', '8', '--warmup-passes',
           '1', '--lr-steps', '3', '--log-interval', '2', '--jobs', '1',
           '--threads-per-job', '1', '--nice', '0', '--cfg-options', *TINY,
           *options]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('experiment')
    subprocess.run([sys.executable, '-m', 'mmskelcl.utils.demo_data',
                    str(tmp / 'demo.pkl'), '--clips-per-class', '4',
                    '--num-subjects', '4', '--val-subjects', '1'],
                   check=True, cwd=ROOT, capture_output=True)
    return tmp


@pytest.mark.slow
def test_grid_four_jsons_table_and_skip(demo):
    tmp = demo
    args = ['configs/demo/ctrgcn_j.py', 'configs/demo/cacl_ctrgcn_j.py',
            '--seeds', '1', '2', '--passes', '2', '--work-dir',
            str(tmp / 'grid'), '--results-dir', str(tmp / 'res')]
    out, _ = _run(args, tmp).communicate(timeout=1200)
    assert 'experiment: 4 run(s) finished, 0 failed' in out, out
    names = sorted(os.listdir(tmp / 'res'))
    assert names == ['cacl_ctrgcn_j_seed1.json', 'cacl_ctrgcn_j_seed2.json',
                     'ctrgcn_j_seed1.json', 'ctrgcn_j_seed2.json']
    recs = {}
    for n in names:
        with open(tmp / 'res' / n) as f:
            r = json.load(f)
        recs[(r['entry'], r['seed'])] = r
        assert r['resolved_schedule']['train']['total_iters'] == 6
        assert 0 <= r['top1'] <= 100 and r['top5'] >= r['top1']
        assert r['wall_s'] > 0 and r['cpu_s'] > 0
        assert len(r['git_commit']) >= 40 and len(r['config_hash']) == 16
        assert 'loss_cls' in r['losses']
        # the test dump holds the same accuracy
        dump = tmp / 'grid' / r['entry'] / f'seed{r["seed"]}' / 'test' / \
            'scores.pkl'
        with open(dump, 'rb') as f:
            m = pickle.load(f)['metrics']['run']
        assert r['top1'] == pytest.approx(100 * m['top1'])
    cacl = recs[('cacl_ctrgcn_j', 1)]
    assert set(cacl['anchors']) == {'contrast_anchors'}, cacl['anchors']
    # a method and its baseline of one seed started from the same backbone
    # and classifier weights (EpochSeedHook's fingerprint), another seed not
    init = {k: r['initial_weights'] for k, r in recs.items()}
    assert len(init[('ctrgcn_j', 1)]) == 16
    assert init[('cacl_ctrgcn_j', 1)] == init[('ctrgcn_j', 1)]
    assert init[('cacl_ctrgcn_j', 2)] == init[('ctrgcn_j', 2)]
    assert init[('ctrgcn_j', 1)] != init[('ctrgcn_j', 2)]
    assert 'loss_contrast' in cacl['losses']
    # table = hand computation from the four JSONs
    s = summarize(load_results(str(tmp / 'res')))
    rows = {r['entry']: r for r in s['rows']}
    for e in ('ctrgcn_j', 'cacl_ctrgcn_j'):
        v = [recs[(e, 1)]['top1'], recs[(e, 2)]['top1']]
        assert rows[e]['mean'] == pytest.approx(np.mean(v))
        assert rows[e]['sd'] == pytest.approx(np.std(v, ddof=1))
    (pair, ) = s['pairs']
    d = {k: recs[('cacl_ctrgcn_j', k)]['top1'] - recs[('ctrgcn_j', k)]['top1']
         for k in (1, 2)}
    assert pair['diffs'] == pytest.approx(d)
    assert pair['wins'] == sum(v > 0 for v in d.values())
    # finished runs are not rerun
    stamp = {n: os.path.getmtime(tmp / 'res' / n) for n in names}
    out, _ = _run(args, tmp).communicate(timeout=600)
    assert out.count('] skipped: top-1') == 4, out
    assert '] train' not in out
    assert {n: os.path.getmtime(tmp / 'res' / n) for n in names} == stamp


def _scores(tmp, grid):
    with open(tmp / grid / 'cacl_ctrgcn_j' / 'seed3' / 'test' / 'scores.pkl',
              'rb') as f:
        return pickle.load(f)


@pytest.mark.slow
def test_killed_run_resumes_to_the_uninterrupted_result(demo):
    tmp = demo

    def args(name):
        return ['configs/demo/cacl_ctrgcn_j.py', '--seeds', '3', '--passes',
                '4', '--work-dir', str(tmp / name), '--results-dir',
                str(tmp / f'{name}_res')]

    # a loader worker, as on real data: its augmentation draws are seeded
    # per epoch too (EpochSeedHook), or the resumed epochs would differ
    workers = ['train_dataloader.num_workers=1']

    out, _ = _run(args('whole'), tmp, workers).communicate(timeout=900)
    assert '1 run(s) finished' in out, out
    proc = _run(args('killed'), tmp, workers, start_new_session=True)
    train = tmp / 'killed' / 'cacl_ctrgcn_j' / 'seed3' / 'train'
    deadline = time.time() + 600
    while not (train / 'last_checkpoint').exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its train.py
    proc.communicate()
    assert not (train / 'epoch_4.pth').exists()  # killed mid-run
    assert not (tmp / 'killed_res').exists()
    out, _ = _run(args('killed'), tmp, workers).communicate(timeout=900)
    assert 'train (resumed)' in out and '1 run(s) finished' in out, out
    with open(train / 'done.json') as f:
        assert json.load(f)['resumed'] is True
    recs = []
    for name in ('whole', 'killed'):
        with open(tmp / f'{name}_res' / 'cacl_ctrgcn_j_seed3.json') as f:
            recs.append(json.load(f))
    # the resumed attempt says where it started (a checkpoint's epoch), so
    # its minutes are scaled to the whole stage
    sched, timing = recs[1]['resolved_schedule']['train'], recs[1]['stages']
    start = timing['train']['start_iter']
    assert 0 < start < sched['total_iters']
    assert start % sched['iters_per_epoch'] == 0
    assert timing['train']['resumed'] and not recs[0]['stages']['train'][
        'resumed'] and recs[0]['stages']['train']['start_iter'] == 0
    for k in ('top1', 'top5', 'mean_class', 'config_hash',
              'initial_weights'):  # the resumed run kept its first start's
        assert recs[0][k] == recs[1][k]
    assert recs[0]['initial_weights']
    a, b = _scores(tmp, 'whole'), _scores(tmp, 'killed')
    np.testing.assert_array_equal(a['fused'], b['fused'])
    # the last epoch's logged losses, from the resumed session's log
    assert recs[1]['losses'] == pytest.approx(recs[0]['losses'], rel=1e-5)


@pytest.mark.slow
def test_selfsupervised_entries_pretrain_then_probe(demo):
    """PRE>LINEAR and random>LINEAR; a second probe of the same pretraining
    (PRE>LINEAR_BN, started at the same time by the second job) probes the
    same checkpoint, the pretraining trained once."""
    tmp = demo
    pre = 'configs/demo/skeattnclr_stgcn_j_pretrain.py'
    lin = 'configs/demo/skeattnclr_stgcn_j_linear.py'
    lin_bn = tmp / 'skeattnclr_stgcn_j_linear_bn.py'
    lin_bn.write_text(f'_base_ = [{osp.join(ROOT, lin)!r}]\n'
                      "model = dict(cls_head=dict(type='ProbeHead', "
                      "feat_norm='bn'))\n")
    cmd = [sys.executable, TOOL, 'run', f'{pre}>{lin}', f'{pre}>{lin_bn}',
           f'random>{lin}', '--seeds', '1', '--ann-file',
           str(tmp / 'demo.pkl'), '--passes', '1', '--batch-size', '8',
           '--probe-passes', '1', '--probe-batch-size', '8', '--jobs', '2',
           '--threads-per-job', '1', '--force', '--nice', '0',
           '--work-dir', str(tmp / 'ssl'), '--results-dir',
           str(tmp / 'ssl_res')]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert 'experiment: 3 run(s) finished, 0 failed' in res.stdout, \
        res.stdout + res.stderr[-3000:]
    runs = tmp / 'ssl'
    # one pretraining, trained once, the second job waiting for it
    (shared, ) = os.listdir(runs / '_pretrain')
    assert shared.startswith('skeattnclr_stgcn_j_pretrain-')
    assert res.stdout.count('] pretrain') == 1, res.stdout
    ckpt = str(runs / '_pretrain' / shared / 'seed1' / 'pretrain' /
               'epoch_1.pth')
    for probe in ('skeattnclr_stgcn_j_linear', 'skeattnclr_stgcn_j_linear_bn'):
        run_dir = runs / f'skeattnclr_stgcn_j_pretrain+{probe}' / 'seed1'
        probe_log = (run_dir / 'train.log').read_text()
        # the probe's backbone is initialised from the shared checkpoint
        assert f'model.backbone.init_cfg.checkpoint={ckpt}' in probe_log
        assert f'from path: {ckpt}' in probe_log  # mmengine's loader
        assert not (run_dir / 'pretrain').exists()
    random_log = (runs / 'random+skeattnclr_stgcn_j_linear' / 'seed1' /
                  'train.log').read_text()
    assert 'model.backbone.init_cfg=None' in random_log
    assert not (runs / 'random+skeattnclr_stgcn_j_linear' / 'seed1' /
                'pretrain').exists()
    results = load_results(str(tmp / 'ssl_res'))
    rec = results['skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear'][1]
    rec_bn = results[
        'skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear_bn'][1]
    assert rec['pretrain'] == rec_bn['pretrain'] == pre
    assert set(rec['resolved_schedule']) == {'pretrain', 'train'}
    # both records carry the one pretraining's timing and say it is shared
    assert rec['stages']['pretrain'] == rec_bn['stages']['pretrain']
    assert rec['stages']['pretrain']['shared'] == osp.join(
        '_pretrain', shared, 'seed1', 'pretrain')
    # the two probes differ (BatchNorm or not) on the same features
    assert rec['config_hash'] != rec_bn['config_hash']
    pairs = {p['entry']: p for p in summarize(results)['pairs']}
    pair = pairs['skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear']
    assert pair['baseline'] == 'random>skeattnclr_stgcn_j_linear'
    assert pair['diffs'][1] == pytest.approx(
        rec['top1'] - results['random>skeattnclr_stgcn_j_linear'][1]['top1'])


def test_baselines_first_and_ssl_pairing():
    recs = {e: {1: _record(e, 1, 50.0)} for e in (
        'csre_hcn_j', 'hcn_j', 'agcn_j', 'csre_agcn_j',
        'random>probe', 'pre>probe')}
    s = summarize(recs)
    assert [r['entry'] for r in s['rows']] == [
        'agcn_j', 'csre_agcn_j', 'hcn_j', 'csre_hcn_j', 'random>probe',
        'pre>probe']
    assert {p['entry']: p['baseline'] for p in s['pairs']} == {
        'csre_agcn_j': 'agcn_j', 'csre_hcn_j': 'hcn_j',
        'pre>probe': 'random>probe'}


def test_child_env_threads_path_and_allocator(monkeypatch):
    from mmskelcl.utils import allocator
    from mmskelcl.utils.experiment import runs
    monkeypatch.setenv('PYTHONPATH', '/elsewhere:/repo')
    monkeypatch.delenv('LD_PRELOAD', raising=False)
    monkeypatch.delenv('MMSKELCL_ALLOCATOR', raising=False)
    env = runs.child_env('/repo', 3)
    assert env['OMP_NUM_THREADS'] == env['MKL_NUM_THREADS'] == '3'
    assert env['PYTHONPATH'] == '/repo:/elsewhere'
    tc = allocator.find('tcmalloc')
    assert env.get('LD_PRELOAD') == tc  # None: not installed, not preloaded
    monkeypatch.setenv('MMSKELCL_ALLOCATOR', 'glibc')
    assert 'LD_PRELOAD' not in runs.child_env('/repo', 1)
    monkeypatch.setattr(allocator, 'search_dirs', lambda: [])
    monkeypatch.setenv('MMSKELCL_ALLOCATOR', 'auto')
    assert 'LD_PRELOAD' not in runs.child_env('/repo', 1)


def test_default_baselines_of_single_and_combined_methods():
    from mmskelcl.utils.experiment.table import default_baseline
    names = ['ctrgcn_j', 'cacl_ctrgcn_j', 'cacl_frhead_csre_ctrgcn_j',
             'frhead_csre_ctrgcn_j', 'csre_hcn_j', 'hcn_j']
    got = {n: default_baseline(n, names) for n in names}
    assert got == {'ctrgcn_j': None, 'cacl_ctrgcn_j': 'ctrgcn_j',
                   'cacl_frhead_csre_ctrgcn_j': 'ctrgcn_j',
                   'frhead_csre_ctrgcn_j': 'ctrgcn_j', 'csre_hcn_j': 'hcn_j',
                   'hcn_j': None}


def _scalars(folder, stamp, steps, times, epoch_of):
    path = folder / stamp / 'vis_data'
    path.mkdir(parents=True)
    with open(path / 'scalars.json', 'w') as f:
        for step, t in zip(steps, times):
            f.write(json.dumps(dict(loss=1.0, time=t, step=step,
                                    epoch=epoch_of(step))) + '\n')


def test_status_states_and_time_left_by_hand(tmp_path, capsys):
    """`status` reads a grid's folders: a finished run (its JSON), a run
    stopped after its first checkpoint (iterations after it count as left),
    two waiting runs timed from their config's runs."""
    from mmskelcl.utils.demo_data.dataset import generate_demo_dataset
    from mmskelcl.utils.experiment.grid import identity, plan
    from mmskelcl.utils.experiment.runs import (RunSpec, parse_entry,
                                                result_path)
    from mmskelcl.utils.experiment.schedule import Schedule
    from mmskelcl.utils.experiment.status import format_status, run_status
    ann = str(tmp_path / 'demo.pkl')
    generate_demo_dataset(ann, clips_per_class=4, num_subjects=4,
                          val_subjects=1)  # 24 train clips
    base = osp.join(ROOT, 'configs', 'demo', 'ctrgcn_j.py')
    cacl = osp.join(ROOT, 'configs', 'demo', 'cacl_ctrgcn_j.py')
    spec = RunSpec(repo=ROOT, work_dir=str(tmp_path / 'grid'),
                   results_dir=str(tmp_path / 'res'), ann_file=ann,
                   schedule=Schedule(passes=2, repeat=1, batch_size=8))
    eb, ec = parse_entry(base), parse_entry(cacl)
    # 24 clips / batch 8 = 3 iterations per epoch, 2 epochs
    assert plan(spec, eb)[0]['resolved']['total_iters'] == 6
    grid = tmp_path / 'grid'
    # ctrgcn_j seed 1 finished, logged at 2.0 s/it
    _scalars(grid / 'ctrgcn_j' / 'seed1' / 'train', '20260101_000000',
             [2, 4, 6], [2.0, 2.0, 2.0], lambda s: 1 + (s - 1) // 3)
    os.makedirs(spec.results_dir)
    with open(result_path(spec, eb, 1), 'w') as f:
        json.dump(dict(identity=identity(eb, 1, plan(spec, eb), ROOT),
                       top1=62.5, wall_s=600.0), f)
    # cacl seed 1: killed at iteration 4, checkpoint of epoch 1 (3 it),
    # then resumed: the second session's lines replace the first's from
    # its first step on (the 9.0 s of step 4 is gone)
    train = grid / 'cacl_ctrgcn_j' / 'seed1' / 'train'
    _scalars(train, '20260101_000000', [2, 4], [1.5, 9.0],
             lambda s: 1 + (s - 1) // 3)
    _scalars(train, '20260101_010000', [4], [1.5],
             lambda s: 1 + (s - 1) // 3)
    (train / 'epoch_1.pth').write_bytes(b'')
    (train / 'last_checkpoint').write_text(str(train / 'epoch_1.pth'))
    runs = [run_status(spec, e, s) for s in (1, 2) for e in (eb, ec)]
    assert [r['state'] for r in runs] == ['finished', 'training',
                                          'waiting', 'waiting']
    st = runs[1]['stages'][0]
    assert (st['done'], st['saved'], st['total']) == (4, 3, 6)
    assert st['sec_per_iter'] == 1.5
    text = format_status(runs, jobs=2)
    lines = text.splitlines()
    assert lines[0] == 'ctrgcn_j seed 1: finished, top-1 62.50 (10 min)'
    # left: cacl 1 (6-3) x 1.5 = 4.5 s; ctrgcn 2: 6 x 2.0 = 12 s;
    # cacl 2: 6 x 1.5 = 9 s; total 25.5 s
    assert lines[1].startswith('cacl_ctrgcn_j seed 1: training, train 4/6 '
                               'it (checkpoint at 3)')
    assert lines[2] == 'ctrgcn_j seed 2: waiting, train 0/6 it, about 0 ' \
        'min left'
    from mmskelcl.utils.experiment.status import remaining_seconds
    assert remaining_seconds(runs) == pytest.approx({
        'cacl_ctrgcn_j 1': 4.5, 'ctrgcn_j 2': 12.0, 'cacl_ctrgcn_j 2': 9.0})
    assert lines[-1].startswith('1 finished, 1 training, 2 waiting')
    # that run's lock, released (a failed run) or naming a killed holder:
    # stopped, its time left the same
    lock = train.parent / 'run.lock'
    for holder in ('released\n', f'{_dead_pid()} {socket.gethostname()}\n'):
        lock.write_text(holder)
        runs[1] = run_status(spec, ec, 1)
        assert runs[1]['state'] == 'stopped'
        lines = format_status(runs, jobs=2).splitlines()
        assert lines[1].startswith('cacl_ctrgcn_j seed 1: stopped, train '
                                   '4/6 it (checkpoint at 3), about 0 min')
        assert lines[-1].startswith('1 finished, 1 stopped, 2 waiting; '
                                    'about 0.0 h of runs left')
        assert remaining_seconds(runs)['cacl_ctrgcn_j 1'] == 4.5
    lock.write_text(f'{os.getpid()} {socket.gethostname()}\n')
    assert run_status(spec, ec, 1)['state'] == 'training'
    lock.unlink()
    # a JSON of another schedule is reported, not taken as finished
    with open(result_path(spec, ec, 2), 'w') as f:
        json.dump(dict(identity={'other': 1}, top1=1.0, wall_s=1.0), f)
    assert run_status(spec, ec, 2)['state'] == 'conflict'
    # the command line reads the same folders
    tool = load_tool('experiment.py')
    assert tool.main(['status', base, cacl, '--seeds', '1', '2',
                      '--ann-file', ann, '--passes', '2', '--repeat', '1',
                      '--batch-size', '8', '--work-dir', str(grid),
                      '--results-dir', spec.results_dir]) == 0
    out = capsys.readouterr().out
    assert 'cacl_ctrgcn_j seed 2: conflict' in out
    assert 'train 4/6 it (checkpoint at 3)' in out


@contextmanager
def _hold_lock(path):
    """Another process holds ``path``'s flock until the block ends; then it
    is killed (so nothing releases the lock but the process's death)."""
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import fcntl, time; '
         f'f = open({str(path)!r}, "a"); '
         'fcntl.flock(f, fcntl.LOCK_EX); print("held", flush=True); '
         'time.sleep(600)'], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'held\n'
        yield
    finally:
        holder.kill()
        holder.wait()


def _dead_pid():
    """The id of a process that has ended."""
    p = subprocess.Popen([sys.executable, '-c', ''])
    p.wait()
    return p.pid


def test_run_lock_names_its_holder_and_tells_a_killed_one(tmp_path):
    """``run.lock`` names the process holding it: ``run_active`` is true
    while that process lives, false once it is killed or released the
    lock, and unknown for a lock of another host or without a holder."""
    from mmskelcl.utils.experiment.grid import run_active, run_lock
    run_dir = tmp_path / 'run'
    lock = run_dir / 'run.lock'
    assert run_active(str(run_dir)) is None  # never locked
    holder = subprocess.Popen(
        [sys.executable, '-c', f'import sys, time; sys.path.insert(0, '
         f'{ROOT!r}); from mmskelcl.utils.experiment.grid import run_lock; '
         f'lock = run_lock({str(run_dir)!r}); lock.__enter__(); '
         'print("held", flush=True); time.sleep(600)'],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'held\n'
        assert lock.read_text() == f'{holder.pid} {socket.gethostname()}\n'
        assert run_active(str(run_dir)) is True
    finally:
        holder.kill()
        holder.wait()
    assert run_active(str(run_dir)) is False  # killed: its holder is gone
    with run_lock(str(run_dir)):
        assert run_active(str(run_dir)) is True
    assert lock.read_text() == 'released\n'
    assert run_active(str(run_dir)) is False
    with pytest.raises(RuntimeError):
        with run_lock(str(run_dir)):  # a run that fails releases it too
            raise RuntimeError('failed')
    assert lock.read_text() == 'released\n'
    lock.write_text(f'{os.getpid()} not-{socket.gethostname()}\n')
    assert run_active(str(run_dir)) is None
    lock.write_text('')  # a lock of a grid before holders were recorded
    assert run_active(str(run_dir)) is None


def test_a_run_locked_by_another_process_is_left_to_it(tmp_path, capsys):
    """Two grids over one work dir: a run whose lock another process holds
    is reported busy and not started (no stage folder, no JSON); the lock
    is free again once that process is gone, even killed."""
    from mmskelcl.utils.demo_data.dataset import generate_demo_dataset
    from mmskelcl.utils.experiment.grid import RunBusy, run_grid, run_lock
    from mmskelcl.utils.experiment.runs import RunSpec, parse_entry
    from mmskelcl.utils.experiment.schedule import Schedule
    ann = str(tmp_path / 'demo.pkl')
    generate_demo_dataset(ann, clips_per_class=4, num_subjects=4,
                          val_subjects=1)
    spec = RunSpec(repo=ROOT, work_dir=str(tmp_path / 'grid'),
                   results_dir=str(tmp_path / 'res'), ann_file=ann,
                   schedule=Schedule(passes=2, repeat=1, batch_size=8))
    entry = parse_entry(osp.join(ROOT, 'configs', 'demo', 'ctrgcn_j.py'))
    run_dir = tmp_path / 'grid' / 'ctrgcn_j' / 'seed1'
    run_dir.mkdir(parents=True)
    with _hold_lock(run_dir / 'run.lock'):
        res = run_grid(spec, [entry], [1], jobs=1)
        assert [r['status'] for r in res] == ['busy']
        assert 'busy: another process is running it' in capsys.readouterr(
        ).out
        tool = load_tool('experiment.py')  # the command line says so too
        assert tool.main(['run', entry.config, '--seeds', '1', '--ann-file',
                          ann, '--passes', '2', '--repeat', '1',
                          '--batch-size', '8', '--work-dir',
                          spec.work_dir, '--results-dir',
                          spec.results_dir]) == 0
        assert '0 run(s) finished, 0 failed, 1 busy in another process' \
            in capsys.readouterr().out
        assert sorted(os.listdir(run_dir)) == ['run.lock']
        assert not (tmp_path / 'res').exists()
        with pytest.raises(RunBusy):
            with run_lock(str(run_dir)):
                pass
    with run_lock(str(run_dir)):  # the killed holder left no stale lock
        with pytest.raises(RunBusy):  # and the lock excludes a second
            with run_lock(str(run_dir)):  # holder in this process too
                pass


def test_pretrainings_are_shared_by_stage_identity(tmp_path):
    """Entries that pretrain alike share one pretraining folder; another
    seed, schedule or annotation file gets its own, the probes their run's."""
    from mmskelcl.utils.experiment.grid import plan, stage_base
    from mmskelcl.utils.experiment.runs import RunSpec, parse_entry
    from mmskelcl.utils.experiment.schedule import Schedule
    demo_cfg = osp.join(ROOT, 'configs', 'demo')
    pre = osp.join(demo_cfg, 'skeattnclr_stgcn_j_pretrain.py')
    lin = osp.join(demo_cfg, 'skeattnclr_stgcn_j_linear.py')
    bn = tmp_path / 'linear_bn.py'
    bn.write_text(f'_base_ = [{lin!r}]\nmodel = dict(cls_head=dict('
                  "type='ProbeHead', feat_norm='bn'))\n")

    from mmskelcl.utils.demo_data.dataset import generate_demo_dataset
    for name in ('a.pkl', 'b.pkl'):  # the same clips under two names
        generate_demo_dataset(str(tmp_path / name), clips_per_class=4,
                              num_subjects=4, val_subjects=1)

    def spec(passes=2, ann='a.pkl'):
        return RunSpec(repo=ROOT, work_dir=str(tmp_path / 'grid'),
                       results_dir=str(tmp_path / 'res'),
                       ann_file=str(tmp_path / ann),
                       schedule=Schedule(passes=passes),
                       probe_schedule=Schedule(passes=1))

    def bases(sp, probe, seed=1):
        run_dir = str(tmp_path / 'run')
        return [stage_base(sp, run_dir, st, seed)
                for st in plan(sp, parse_entry(f'{pre}>{probe}'))]

    shared, own = bases(spec(), lin)
    assert own == str(tmp_path / 'run')
    assert osp.dirname(osp.dirname(shared)) == str(tmp_path / 'grid' /
                                                   '_pretrain')
    assert osp.basename(osp.dirname(shared)).startswith(
        'skeattnclr_stgcn_j_pretrain-')
    assert bases(spec(), str(bn))[0] == shared  # another probe: shared
    assert bases(spec(), lin, seed=2)[0] == shared.replace('seed1', 'seed2')
    assert bases(spec(passes=3), lin)[0] != shared
    assert bases(spec(ann='b.pkl'), lin)[0] != shared


def test_a_shared_stage_waits_for_the_run_training_it(tmp_path):
    """While another process holds a shared stage's lock, a run needing it
    says so and waits; it goes on once that process is gone (killed)."""
    import threading

    from mmskelcl.utils.experiment.grid import stage_lock
    base = tmp_path / '_pretrain' / 'x' / 'seed1'
    base.mkdir(parents=True)
    said, entered = [], threading.Event()

    def run():
        with stage_lock(str(base), said.append):
            entered.set()

    with _hold_lock(base / 'stage.lock'):
        t = threading.Thread(target=run)
        t.start()
        assert not entered.wait(1.0)  # waiting, not training a second time
        assert said == [f'waiting for {base}: another run trains it']
    assert entered.wait(30)
    t.join()
    said.clear()
    with stage_lock(str(base), said.append):  # free: no message
        pass
    assert said == []


def test_curves_epoch_means_by_hand(tmp_path, capsys):
    """`curves`: per-epoch means of the logged classification and auxiliary
    losses of every run of a work dir (a resumed session's lines replace
    the first's), and the PNG."""
    from mmskelcl.utils.experiment.curves import collect
    ep = lambda s: 1 + (s - 1) // 4  # noqa: E731 (4 iterations an epoch)
    train = tmp_path / 'cacl_ctrgcn_j' / 'seed1' / 'train'
    path = train / '20260101_000000' / 'vis_data'
    path.mkdir(parents=True)
    rows = [(2, 5.0, 2.0, .25), (4, 7.0, 3.0, .5), (6, 4.0, 1.5, .5),
            (8, 3.0, 1.0, 1.0)]  # step, loss, loss_cls, top1_acc
    with open(path / 'scalars.json', 'w') as f:
        for step, loss, cls, acc in rows:
            f.write(json.dumps(dict(loss=loss, loss_cls=cls, top1_acc=acc,
                                    step=step, epoch=ep(step))) + '\n')
    _scalars(tmp_path / 'ctrgcn_j' / 'seed1' / 'train', '20260101_000000',
             [4, 8], [1.0, 1.0], ep)  # no loss_cls logged: no curve keys
    (tmp_path / 'ctrgcn_j' / 'seed2' / 'test').mkdir(parents=True)
    curves = collect(str(tmp_path))
    c = curves[('cacl_ctrgcn_j', 1)]
    assert c[1] == pytest.approx(dict(loss_cls=2.5, aux=3.5, top1_acc=.375))
    assert c[2] == pytest.approx(dict(loss_cls=1.25, aux=2.25, top1_acc=.75))
    assert curves[('ctrgcn_j', 1)] == {1: {}, 2: {}}
    assert set(collect(str(tmp_path), seeds=[2])) == set()
    assert set(collect(str(tmp_path), entries=['cacl_ctrgcn_j'])) == {
        ('cacl_ctrgcn_j', 1)}
    tool = load_tool('experiment.py')
    out = tmp_path / 'curves.png'
    assert tool.main(['curves', str(tmp_path), '--out', str(out)]) == 0
    assert _png_size(out)[0] > 500
    assert '2 run(s)' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no training log'):
        tool.main(['curves', str(tmp_path / 'ctrgcn_j'), '--out', str(out)])


def test_an_untimed_stage_is_paced_by_its_config_then_its_kind():
    """remaining_seconds: a new probe config beside a timed pretraining (8
    s/it) and a timed probe (1 s/it) is paced as a probe, not at the median
    of both kinds (what made a 5-minute probe read 31 minutes)."""
    from mmskelcl.utils.experiment.status import remaining_seconds

    def stage(name, config, total, saved=0, pace=None):
        return dict(name=name, config=config, total=total, done=saved,
                    saved=saved, sec_per_iter=pace)

    runs = [
        dict(entry='pre>lin', seed=1, state='training', stages=[
            stage('pretrain', 'pre.py', 150, 150, 8.0),
            stage('train', 'lin.py', 225, 100, 1.0)]),
        dict(entry='pre>lin_bn', seed=1, state='waiting', stages=[
            stage('pretrain', 'pre.py', 150), stage('train', 'bn.py', 225)]),
        dict(entry='random>lin_bn', seed=1, state='waiting', stages=[
            stage('train', 'bn.py', 225)]),
        dict(entry='other', seed=1, state='waiting', stages=[
            stage('finetune', 'ft.py', 10)]),
    ]
    assert remaining_seconds(runs) == pytest.approx({
        'pre>lin 1': 125 * 1.0,
        'pre>lin_bn 1': 150 * 8.0 + 225 * 1.0,  # its config, then its kind
        'random>lin_bn 1': 225 * 1.0,
        'other 1': 10 * 4.5})  # no kind timed: median of every stage
    assert remaining_seconds(runs[1:2])['pre>lin_bn 1'] != \
        remaining_seconds(runs[1:2])['pre>lin_bn 1']  # nothing timed: nan


def test_a_shared_pretraining_counts_once_in_the_time_left():
    """Two probes waiting on one pretraining (same folder): its 150
    iterations count for the first run only; probes and another seed's
    pretraining count in full."""
    from mmskelcl.utils.experiment.status import remaining_seconds

    def stage(name, config, folder, total=150):
        return dict(name=name, config=config, folder=folder, total=total,
                    done=0, saved=0, sec_per_iter=2.0)

    runs = [dict(entry=f'pre>{probe}', seed=seed, state='waiting', stages=[
        stage('pretrain', 'pre.py', f'_pretrain/pre-x/seed{seed}/pretrain'),
        stage('train', f'{probe}.py', f'pre+{probe}/seed{seed}/train', 50)])
        for seed in (1, 2) for probe in ('lin', 'bn')]
    assert remaining_seconds(runs) == pytest.approx({
        'pre>lin 1': 300 + 100, 'pre>bn 1': 100,
        'pre>lin 2': 300 + 100, 'pre>bn 2': 100})
