"""Every SkeAttnCLR downstream config (linear, finetune, semi-supervised,
transfer) against the released YAMLs (GitHubOfHyl97/SkeAttnCLR).

``skeattnclr_released_yamls.csv`` transcribes the optimizer and schedule of
every released downstream YAML (one row per file, path as in the release).
``skeattnclr_downstream_table.csv`` gives for each config whether it is
``released`` (its ``source`` is its own released file) or ``not released``
(``source`` is the released file its values were chosen from; a released
file the project does not follow is in ``released_file``). A config must
carry its source's values, and its header comment must say ``released:
<source>`` or ``not released: chosen as ... <source>`` (and name a
``released_file`` it overrides), so a wrong value or a wrong "released"
claim fails."""
import csv
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
PROTOCOLS = ('linear', 'finetune', 'semi1', 'semi10', 'transfer_linear',
             'transfer_finetune')


def _read(name):
    with open(osp.join(HERE, name), newline='') as f:
        return list(csv.DictReader(f))


RELEASED = {r['path']: r for r in _read('skeattnclr_released_yamls.csv')}
TABLE = _read('skeattnclr_downstream_table.csv')


def _header(path):
    """The leading comment of a config, lines joined."""
    lines = []
    for line in open(osp.join(REPO, path)):
        if not line.startswith('#'):
            break
        lines.append(line[1:].strip())
    return ' '.join(lines)


def test_the_table_covers_every_downstream_config():
    # NTU and PKU-MMD; the demo and NW-UCLA checks have no release
    pattern = re.compile(r'skeattnclr_stgcn_[jbm]_(%s)\.py$' %
                         '|'.join(PROTOCOLS))
    files = sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'configs', '*', 'skeattnclr_*.py'))
        if pattern.search(p) and not re.search(r'/(demo|nwucla)/', p))
    assert files == sorted(r['config'] for r in TABLE)
    assert len(files) == 76


def test_released_transcription_facts():
    """Values the issue and the docs quote, read off the release's YAMLs
    (a transcription slip in the CSV fails here)."""
    def r(path):
        row = RELEASED['config/SkeAttnCLR/' + path]
        return float(row['base_lr']), [int(s) for s in row['step'].split()]

    assert r('NTU60/bone/FT_eval_xsub.yaml') == (0.005, [60, 100])
    assert r('NTU60/motion/FT_eval_xsub.yaml') == (0.003, [60, 100])
    assert r('NTU60/motion/FT_eval_xview.yaml') == (0.003, [60, 100])
    assert r('NTU60/joint/FT_eval_xview.yaml') == (0.005, [60, 100])
    assert r('NTU60/bone/semiFT0.01_eval_xsub.yaml') == (0.02, [13, 80, 120])
    assert r('NTU60/motion/semiFT0.01_eval_xsub.yaml') == (0.025,
                                                          [10, 60, 110])
    assert r('NTU60/joint/semiFT0.01_eval_xview.yaml') == (0.05,
                                                          [10, 60, 110])
    assert r('NTU60/bone/semiFT0.01_eval_xview.yaml') == (0.02, [25, 80, 120])
    assert r('NTU60/motion/semiFT0.01_eval_xview.yaml') == (0.02, [25, 90])
    assert r('NTU60/joint/semiFT0.1_eval_xview.yaml') == (0.007,
                                                         [10, 60, 110])
    assert r('NTU120/joint/semiFT0.01_eval_xsub.yaml') == (0.008, [60, 100])
    # the NTU120 bone/motion finetune files carry the linear lr
    assert r('NTU120/bone/FT_eval_xsub.yaml') == r(
        'NTU120/bone/linear_eval_xsub.yaml') == (3.0, [60, 100])
    assert all(row['num_epoch'] == '150' and row['batch_size'] == '128'
               and float(row['weight_decay']) == 0
               and row['nesterov'] == 'False' for row in RELEASED.values())


@pytest.mark.parametrize('row', TABLE, ids=lambda r: r['config'])
def test_config_equals_its_source(row):
    src = RELEASED[row['source']]
    cfg = Config.fromfile(osp.join(REPO, row['config']))
    opt = cfg.optim_wrapper.optimizer
    assert opt.type == 'SGD' and opt.lr == float(src['base_lr'])
    assert opt.momentum == 0.9 and opt.weight_decay == float(
        src['weight_decay'])
    assert opt.nesterov is (src['nesterov'] == 'True')
    (sched, ) = cfg.param_scheduler
    assert sched.type == 'MultiStepLR' and sched.gamma == 0.1
    assert sched.milestones == [int(s) for s in src['step'].split()]
    assert cfg.train_cfg.max_epochs == int(src['num_epoch'])
    assert cfg.train_dataloader.batch_size == int(src['batch_size'])
    # the release's loaders drop the last batch; PKU-MMD's semi configs (no
    # release) keep it: Part II's 1 % subset is smaller than one batch
    pku_semi = '/pkummd' in row['config'] and '_semi' in row['config']
    assert cfg.train_dataloader.drop_last is not pku_semi
    if pku_semi:
        assert 'drop_last=False' in _header(row['config'])
    if '_semi' in row['config']:
        pct = row['config'].split('_semi')[1][:-3]
        assert cfg.train_dataloader.dataset.split.endswith(f'_semi{pct}')
        if row['status'] == 'released':
            assert float(src['label_percent']) == float(pct) / 100


@pytest.mark.parametrize('row', TABLE, ids=lambda r: r['config'])
def test_header_says_what_is_released(row):
    head = _header(row['config'])
    if row['status'] == 'released':
        assert f'released: {row["source"]}' in head
        assert 'not released' not in head
        assert row['released_file'] == row['source']
    else:
        assert row['status'] == 'not released'
        assert 'not released: chosen as' in head
        assert row['source'] in head
        if row['released_file'] != '-':  # a released file overridden
            assert row['released_file'] in head
            assert row['released_file'] in RELEASED
        else:  # no released file for this config in the release
            assert not any(p in head for p in RELEASED
                           if p != row['source'] and 'linear_eval' not in p)
