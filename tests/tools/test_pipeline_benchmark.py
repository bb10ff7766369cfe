"""``tools/benchmark.py --pipeline CONFIG``: clips per second of one loader
worker on synthetic clips shaped like each dataset's, per-transform times,
workers a GPU needs; ``--compile`` in the model benchmark."""
import json
import math
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from mmaction.registry import DATASETS, TRANSFORMS
from mmcv.transforms import BaseTransform

import mmskelcl  # noqa: F401
from mmskelcl.utils.benchmark import benchmark
from mmskelcl.utils.benchmark.pipeline import (_inner_dataset,
                                               benchmark_pipeline, clip_spec,
                                               workers_needed,
                                               write_synthetic)
from mmskelcl.utils.benchmark.shapes import load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = {name: osp.join(REPO, 'configs', name, 'ctrgcn_j.py')
       for name in ('finegym', 'ntu60_xsub', 'nwucla')}


@pytest.mark.parametrize('name, spec', [
    ('finegym', dict(num_person=1, num_joints=17, coords=2, two_d=True)),
    ('ntu60_xsub', dict(num_person=2, num_joints=25, coords=3,
                        two_d=False)),
    ('nwucla', dict(num_person=1, num_joints=20, coords=3, two_d=False)),
])
def test_synthetic_clips_have_the_dataset_shape(name, spec, tmp_path):
    """FineGym: 1 person, COCO-17 2D with scores; NTU: 2 persons, 25 3D
    joints; NW-UCLA: 1 person, 20 3D joints. The synthetic file goes
    through the config's own dataset and pipeline to the model input."""
    cfg = load_config(CFG[name])
    ds_cfg = _inner_dataset(cfg)
    got = clip_spec(ds_cfg)
    assert {k: got[k] for k in spec} == spec
    ds_cfg['ann_file'] = str(tmp_path / 'syn.pkl')
    write_synthetic(ds_cfg['ann_file'], ds_cfg, num_clips=5, frames=90,
                    num_classes=ds_cfg.get('num_classes') or 10)
    sample = DATASETS.build(ds_cfg)[0]
    clip_len = [t['clip_len'] for t in ds_cfg['pipeline']
                if 'clip_len' in t][0]
    # 2D: (x, y, score) channels; 3D: (x, y, z)
    M, V, C = spec['num_person'], spec['num_joints'], 3
    assert tuple(sample['inputs'].shape) == (1, M, clip_len, V, C)
    assert torch.isfinite(sample['inputs']).all()


def test_workers_needed_by_hand():
    # 10 steps/s x 64 clips = 640 clips/s; 100 clips/s per worker -> 6.4
    assert workers_needed(100., 10, 64) == 7
    assert workers_needed(640., 10, 64) == 1
    assert workers_needed(639., 10, 64) == 2


@TRANSFORMS.register_module(force=True)
class _BusyTransform(BaseTransform):
    """Burns ``ms`` milliseconds of this thread's CPU time."""

    def __init__(self, ms: float) -> None:
        self.ms = ms

    def transform(self, results):
        end = time.thread_time() + self.ms / 1e3
        while time.thread_time() < end:
            pass
        return results


def test_pipeline_rate_measures_the_transforms():
    """A transform of known cost (3 ms of CPU) shows up in its own slot and
    bounds the rate: <= 1000 / 3 clips/s; the workers follow the rate."""
    cfg = load_config(CFG['nwucla'])
    ds = _inner_dataset(cfg)
    ds['pipeline'].insert(2, dict(type='_BusyTransform', ms=3.0))
    cfg.train_dataloader.dataset = ds
    # synthetic even where data/nwucla/nwucla.pkl has been converted
    res = benchmark_pipeline(cfg, num_clips=12, warmup=2, frames=40,
                             step_rates=(10, ), synthetic=True)
    assert res['data'].startswith('synthetic')
    names = [k.split(':', 1)[1] for k in res['transform_ms']]
    assert names[:4] == ['CenterJoint', 'RandomViewTransform',
                         '_BusyTransform', 'MinMaxNormalize']
    busy = res['transform_ms']['2:_BusyTransform']
    assert 3.0 <= busy < 3.6
    assert res['ms_per_clip'] >= sum(res['transform_ms'].values()) - 1e-9
    assert res['clips_per_s_per_worker'] <= 1000 / 3.0
    assert res['clips_per_s_per_worker'] == pytest.approx(
        1e3 / res['ms_per_clip'])
    assert res['workers_needed'] == {
        '10': math.ceil(10 * 16 / res['clips_per_s_per_worker'])}


def test_pipeline_cli_prints_json(tmp_path):
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'benchmark.py'),
         '--pipeline', CFG['ntu60_xsub'], '--synthetic', '--clips', '8',
         '--warmup', '1', '--frames', '50', '--step-rates', '4', '8'],
        capture_output=True, text=True, cwd=str(tmp_path), check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res['clips'] == 8 and res['batch_size'] == 64
    assert set(res['workers_needed']) == {'4.0', '8.0'}
    assert 'clips/s per worker' in out.stderr


def test_benchmark_compile_flag_compiles_only_the_config():
    """``compile`` (backend 'eager' here: seconds, not minutes) compiles
    the backbone of the config and not of the baseline."""
    cfg = dict(
        model=dict(type='RecognizerGCN',
                   backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                                 num_person=1, base_channels=8,
                                 num_stages=2, inflate_stages=(),
                                 down_stages=()),
                   cls_head=dict(type='GCNHead', num_classes=3,
                                 in_channels=8)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_dataloader=dict(batch_size=2, dataset=dict(pipeline=[
            dict(type='UniformSampleFrames', clip_len=8),
            dict(type='FormatGCNInput', num_person=1)])))
    res = benchmark(cfg, iters=1, warmup=1, device='cpu', baseline=cfg,
                    measure_memory=False, compile='eager')
    assert res['compiled'] == 'eager' and res['baseline']['compiled'] is \
        False
    assert res['train_step_ratio'] > 0
    with pytest.raises(ValueError, match='warmup'):
        benchmark(cfg, iters=1, warmup=0, device='cpu', compile='eager')
