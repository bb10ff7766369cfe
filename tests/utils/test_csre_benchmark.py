"""CSRE's training cost as ratios (Table 8), every encoder in one run:
the pairs, the ratios against the two models' own figures, the parameter
ratio against a hand count of STFD, and tools/benchmark.py
--csre-overhead."""
import copy
import json
import os.path as osp
import subprocess
import sys

import pytest

import mmskelcl  # noqa: F401
from mmskelcl.utils.benchmark.csre import (ENCODERS, TRAIN_SIZES,
                                           csre_overhead, csre_pairs,
                                           format_csre_overhead)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIPE = [dict(type='UniformSampleFrames', clip_len=8),
        dict(type='PoseDecode'), dict(type='FormatGCNInput', num_person=1),
        dict(type='PackActionInputs')]
PLAIN = dict(
    default_scope='mmaction',
    model=dict(type='RecognizerGCN',
               backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                             num_person=1, base_channels=16, num_stages=2,
                             inflate_stages=(), down_stages=()),
               cls_head=dict(type='GCNHead', num_classes=4, in_channels=16)),
    train_dataloader=dict(batch_size=4, dataset=dict(
        type='PoseDataset', ann_file='unused.pkl', pipeline=PIPE)),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)))


def _csre():
    cfg = copy.deepcopy(PLAIN)
    cfg['model'].update(type='AuxRecognizerGCN', num_frames=8,
                        aux_heads=dict(csre=dict(
                            type='CSREHead', feat_dim=32,
                            sampler=dict(num_pos=2, num_neg=4))))
    return cfg


def test_pairs_of_a_dataset():
    pairs = csre_pairs('ntu60_xsub', config_root=osp.join(REPO, 'configs'))
    assert list(pairs) == list(ENCODERS)
    assert pairs['ctrgcn'] == tuple(
        osp.join(REPO, 'configs', 'ntu60_xsub', f)
        for f in ('csre_ctrgcn_j.py', 'ctrgcn_j.py'))
    with pytest.raises(FileNotFoundError, match='nope_j.py'):
        csre_pairs('ntu60_xsub', ['nope'],
                   config_root=osp.join(REPO, 'configs'))
    assert TRAIN_SIZES['ntu60_xsub'] == 40091 and TRAIN_SIZES['nwucla'] == \
        5 * 1020


def test_ratios_of_a_tiny_pair():
    rows = csre_overhead(dict(tiny=(_csre(), PLAIN)), bank_size=64,
                         iters=2, warmup=1, device='cpu')
    (row, ) = rows
    assert row['encoder'] == 'tiny' and row['batch_size'] == 4
    assert row['train_step_ratio'] == pytest.approx(row['csre_ms'] /
                                                    row['plain_ms'])
    assert row['train_peak_mem_ratio'] == pytest.approx(
        row['csre_mem_mb'] / row['plain_mem_mb'])
    assert row['train_peak_mem_ratio'] > 1  # banks, STFD, its activations
    # params: STFD by hand on C 16, C/r 2, V 17, T' 8, D 32
    stfd = 2 * (16 * 2 + 2) + (2 * 17 * 32 + 32) + (2 * 8 * 32 + 32)
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    base = sum(p.numel() for p in MODELS.build(PLAIN['model']).parameters())
    assert row['params_ratio'] == pytest.approx((base + stfd) / base)
    text = format_csre_overhead(rows)
    assert text.splitlines()[3].split('|')[0].strip() == 'tiny'
    assert f"{row['train_step_ratio']:.3f}" in text


def test_tool_option(tmp_path):
    """--csre-overhead end to end on the smallest real pair (NW-UCLA HCN,
    batch 2, one step each)."""
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'benchmark.py'),
         '--csre-overhead', 'nwucla', '--encoders', 'hcn', '--batch-size',
         '2', '--iters', '1', '--warmup', '0', '--device', 'cpu',
         '--no-memory'], cwd=str(tmp_path), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r['encoder'] for r in rows] == ['hcn']
    assert rows[0]['bank_size'] == 5100 and rows[0]['batch_size'] == 2
    assert rows[0]['params_ratio'] > 1
    assert 'CSRE training cost' in proc.stderr
