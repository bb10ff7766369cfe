"""CSRE under the real launcher: ``torchrun --nproc_per_node 2
tools/train.py CONFIG --launcher pytorch`` on CPU (gloo) trains the CSRE
demo config (``configs/demo/csre_ctrgcn_j.py``) on a tiny demo set; every
rank dumps its full state (``_rank_dump.RankStateDumpHook``).

Checked: the run is real DDP and both ranks end with identical weights and
identical spatial and temporal banks; each rank's banks hold the rows of
both ranks (all 12 training clips, with their labels, unit norm), i.e.
the features are gathered before the bank write (spec section 7, item 12).

The launcher helpers are those of ``test_torchrun_cpu.py``; like its
launches this one runs under ``make test-dist`` (``MMSKELCL_TORCHRUN=1``,
about 50 CPU-seconds) and is reported as skipped otherwise.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from test_torchrun_cpu import (EPOCHS, NUM_TRAIN, PER_RANK, REPO, WORLD,
                               _launch, _load, _wait, _write_demo_set,
                               launches)

BRANCHES = ('spatial', 'temporal')
PREFIX = 'aux_heads.csre.contrast.{}.bank.'


def _cfg(ann_file: str, work_dir: str, dump_dir: str) -> Config:
    cfg = Config.fromfile(osp.join(REPO, 'configs/demo/csre_ctrgcn_j.py'))
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].dataset.ann_file = ann_file
    cfg.train_dataloader.batch_size = PER_RANK
    cfg.train_cfg.max_epochs = EPOCHS
    cfg.train_cfg.val_interval = EPOCHS + 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = 1
    # 3 training clips per class: 2 positives and 4 negatives per anchor,
    # so the contrast is active on the gathered bank
    cfg.model.aux_heads.csre.sampler = dict(num_pos=2, num_neg=4)
    cfg.custom_imports.imports = list(cfg.custom_imports.imports) + [
        '_rank_dump']
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(type='RankStateDumpHook', out_dir=dump_dir)]
    return cfg


@pytest.fixture(scope='module')
def dumps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('csre_torchrun')
    ann_file = str(tmp / 'demo_tiny.pkl')
    labels = _write_demo_set(ann_file)
    dump = tmp / 'dump'
    dump.mkdir()
    cfg_file = str(tmp / 'csre.py')
    _cfg(ann_file, str(tmp / 'work'), str(dump)).dump(cfg_file)
    log = str(tmp / 'csre.log')
    _wait(_launch(cfg_file, log), log)
    with open(log) as f:
        text = f.read()
    return [_load(str(dump / f'rank{r}.pth')) for r in range(WORLD)], \
        labels, text


@launches
def test_ranks_hold_identical_state_and_banks(dumps):
    ranks, _, _ = dumps
    assert [d['world_size'] for d in ranks] == [WORLD] * WORLD
    assert all(d['wrapper'] == 'MMDistributedDataParallel' for d in ranks)
    assert all(d['iters'] == EPOCHS * NUM_TRAIN // (WORLD * PER_RANK)
               for d in ranks)
    s0, s1 = ranks[0]['state'], ranks[1]['state']
    assert set(s0) == set(s1)
    for b in BRANCHES:
        assert PREFIX.format(b) + 'feats' in s0
    for k in s0:
        assert torch.equal(s0[k], s1[k]), f'ranks differ at {k}'


@launches
def test_each_bank_holds_both_ranks_rows(dumps):
    ranks, labels, log = dumps
    labels = torch.tensor(labels)
    for dump in ranks:
        state, init = dump['state'], dump['init']
        for b in BRANCHES:
            pre = PREFIX.format(b)
            assert bool(state[pre + 'valid'].all()), b
            assert torch.equal(state[pre + 'labels'], labels), b
            torch.testing.assert_close(state[pre + 'feats'].norm(dim=1),
                                       torch.ones(NUM_TRAIN))
        # trained, not two copies of the seeded initialisation
        for k in ('aux_heads.csre.stfd.proj.spatial.weight',
                  'aux_heads.csre.stfd.proj.temporal.weight',
                  'cls_head.fc.weight'):
            assert not torch.equal(init[k], state[k]), k
        assert not torch.allclose(state[PREFIX.format('spatial') + 'feats'],
                                  state[PREFIX.format('temporal') + 'feats'])
    assert 'loss_csre_spatial' in log and 'loss_csre_temporal' in log


@launches
def test_anchor_check_runs_on_both_ranks(dumps):
    # MemoryBankHook's per-epoch check all-reduces its counts over the two
    # gloo ranks; in the last epoch the gathered bank is full, so every
    # anchor of either rank qualifies
    _, _, text = dumps
    lines = [ln for ln in text.splitlines()
             if f'Epoch {EPOCHS} bank contrast:' in ln]
    assert lines, text[-2000:]
    assert 'csre_spatial anchors 1.000' in lines[-1]
    assert 'csre_temporal anchors 1.000' in lines[-1]
    assert 'used no anchor' not in text
