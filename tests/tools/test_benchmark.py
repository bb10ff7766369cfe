import copy
import json
import os
import subprocess
import sys

import pytest
import torch

import mmskelcl  # noqa: F401
from mmskelcl.utils.benchmark import (RATIO_METRICS, benchmark,
                                      infer_input_shape, load_config,
                                      make_fake_batch)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

TRAIN_PIPELINE = [
    dict(type='UniformSampleFrames', clip_len=8),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs'),
]

TINY_CFG = dict(
    default_scope='mmaction',
    model=dict(
        type='RecognizerGCN',
        backbone=dict(
            type='STGCN',
            graph_cfg=dict(layout='coco', mode='stgcn_spatial'),
            num_stages=2,
            base_channels=8,
            inflate_stages=[],
            down_stages=[]),
        cls_head=dict(type='GCNHead', num_classes=4, in_channels=8)),
    train_dataloader=dict(
        batch_size=2,
        dataset=dict(
            type='PoseDataset', ann_file='unused.pkl',
            pipeline=TRAIN_PIPELINE)),
    optim_wrapper=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)),
)

TIMES = ('train_step_ms', 'samples_per_s', 'infer_bs1_ms', 'infer_batch_ms',
         'infer_samples_per_s', 'train_peak_mem_mb', 'test_peak_mem_mb')


def _tiny(**backbone) -> dict:
    cfg = copy.deepcopy(TINY_CFG)
    cfg['model']['backbone'].update(backbone)
    return cfg


def test_infer_input_shape():
    cfg = load_config(TINY_CFG)
    assert infer_input_shape(cfg) == (1, 8, 17, 3)
    # nested datasets, dict layouts, in_channels, default num_person
    cfg = load_config(
        _tiny(
            graph_cfg=dict(
                layout=dict(num_node=5, inward=[(1, 0)], center=0),
                mode='stgcn_spatial'),
            in_channels=6))
    cfg.train_dataloader.dataset = dict(
        type='RepeatDataset',
        times=2,
        dataset=dict(
            type='PoseDataset',
            pipeline=[
                dict(type='UniformSample', clip_len=12),
                dict(type='mmaction.FormatGCNInput')
            ]))
    assert infer_input_shape(cfg) == (2, 12, 5, 6)
    cfg.train_dataloader.dataset.dataset.pipeline = [
        dict(type='FormatGCNInput')
    ]
    with pytest.raises(ValueError, match='clip_len'):
        infer_input_shape(cfg)
    cfg = load_config(_tiny(graph_cfg=dict(layout='nope')))
    with pytest.raises(ValueError, match='layout'):
        infer_input_shape(cfg)


def test_fake_batch_feeds_the_model():
    batch = make_fake_batch(3, (1, 8, 17, 3), num_classes=4, seed=1)
    assert len(batch['inputs']) == 3
    assert batch['inputs'][0].shape == (1, 1, 8, 17, 3)
    for i, sample in enumerate(batch['data_samples']):
        assert sample.metainfo['sample_idx'] == i
        assert sample.metainfo['frame_dir'] == str(i)
        assert 0 <= int(sample.gt_label) < 4
    again = make_fake_batch(3, (1, 8, 17, 3), num_classes=4, seed=1)
    assert torch.equal(batch['inputs'][2], again['inputs'][2])


def test_benchmark_with_baseline():
    res = benchmark(
        _tiny(base_channels=12),
        cfg_options={'model.cls_head.in_channels': 12},
        baseline=TINY_CFG,
        iters=2,
        warmup=1,
        device='cpu')
    json.dumps(res)  # serialisable
    base = res['baseline']
    for r in (res, base):
        for key in TIMES:
            assert r[key] > 0, key
        assert r['batch_size'] == 2
        assert r['input_shape'] == [1, 8, 17, 3]
        assert r['num_classes'] == 4
        assert 'profiler' in r['peak_mem_method']
    assert res['params'] > base['params']
    assert res['interleaved'] is True
    for metric, ratio in RATIO_METRICS.items():
        assert res[ratio] == pytest.approx(res[metric] / base[metric])
    assert res['train_step_ratio_paired'] > 0


def test_benchmark_overrides():
    res = benchmark(
        TINY_CFG,
        batch_size=3,
        shape=(2, 6, 17, 3),
        iters=1,
        warmup=0,
        device='cpu',
        measure_memory=False)
    assert res['batch_size'] == 3 and res['input_shape'] == [2, 6, 17, 3]
    assert 'baseline' not in res and 'train_peak_mem_mb' not in res
    with pytest.raises(ValueError, match='amp'):
        benchmark(TINY_CFG, iters=1, warmup=0, device='cpu', amp=True)


def test_cli(tmp_path):
    cfg_file = tmp_path / 'tiny_cfg.py'
    cfg_file.write_text("custom_imports = dict(imports=['mmskelcl'], "
                        'allow_failed_imports=False)\n' +
                        '\n'.join(f'{k} = {v!r}'
                                  for k, v in TINY_CFG.items()) + '\n')
    proc = subprocess.run([
        sys.executable, 'tools/benchmark.py',
        str(cfg_file), '--iters', '1', '--warmup', '0', '--device', 'cpu',
        '--batch-size', '2', '--no-memory', '--cfg-options',
        'model.cls_head.num_classes=3'
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    res = json.loads(last)
    assert res['config'] == str(cfg_file)
    assert res['num_classes'] == 3
    assert res['train_step_ms'] > 0 and res['samples_per_s'] > 0


def test_cpu_memory_fallback(monkeypatch):
    """Without usable profiler memory events the RSS sampler is used."""
    import mmskelcl.utils.benchmark.memory as bench

    def broken(step):
        raise RuntimeError('no memory events')

    monkeypatch.setattr(bench, '_profiled_peak_bytes', broken)
    res = benchmark(TINY_CFG, iters=1, warmup=0, device='cpu')
    assert res['peak_mem_method'].startswith('cpu_rss_delta')
    assert res['train_peak_mem_mb'] >= 0


@pytest.mark.slow
def test_compare_allocators_cli(tmp_path):
    """``--compare-allocators glibc tcmalloc``: one child per allocator,
    each reporting the allocator its loader mapped, and the ratio row."""
    from mmskelcl.utils import allocator
    if allocator.find('tcmalloc') is None:
        assert os.environ.get('MMSKELCL_REQUIRE_TCMALLOC') != '1'
        pytest.skip('libtcmalloc not installed')
    cfg_file = tmp_path / 'tiny_cfg.py'
    cfg_file.write_text("custom_imports = dict(imports=['mmskelcl'], "
                        'allow_failed_imports=False)\n' +
                        '\n'.join(f'{k} = {v!r}'
                                  for k, v in TINY_CFG.items()) + '\n')
    proc = subprocess.run([
        sys.executable, 'tools/benchmark.py', str(cfg_file), '--iters', '2',
        '--warmup', '0', '--device', 'cpu', '--batch-size', '2',
        '--no-memory', '--compare-allocators', 'glibc', 'tcmalloc'
    ], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = {r['allocator']: r for r in res['rows']}
    assert list(rows) == ['glibc', 'tcmalloc']
    assert rows['glibc']['speedup'] == 1.0
    assert rows['tcmalloc']['speedup'] == pytest.approx(
        rows['glibc']['step_ms'] / rows['tcmalloc']['step_ms'])
    assert all(r['threads'] == 1 and r['minor_faults'] > 0
               for r in rows.values())
    assert '| tcmalloc |' in proc.stderr
