"""The shipped configs (this test reads configs/ on purpose)."""
import copy
import functools
import glob
import os.path as osp

import pytest
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config

from mmskelcl.structures.layouts import NUM_JOINTS, resolve_layout

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASET_DIRS = ('finegym', 'ntu60_xsub', 'ntu60_xview', 'ntu120_xsub',
                'ntu120_xset', 'nwucla')
STREAMS = ('j', 'b', 'jm', 'bm')
EXPECTED = {  # classes, layout, persons, epochs, steps, wd, batch
    'finegym': (99, 'coco', 1, 180, [75, 115], 4e-4, 64),
    'ntu60_xsub': (60, 'nturgb+d', 2, 65, [35, 55], 4e-4, 64),
    'ntu60_xview': (60, 'nturgb+d', 2, 65, [35, 55], 4e-4, 64),
    'ntu120_xsub': (120, 'nturgb+d', 2, 65, [35, 55], 4e-4, 64),
    'ntu120_xset': (120, 'nturgb+d', 2, 65, [35, 55], 4e-4, 64),
    'nwucla': (10, 'nwucla', 1, 65, [50], 1e-4, 16),
}


METHODS = ('ctrgcn', 'stgcnpp')
# CTR-GCN's released NTU graph (graph/ntu_rgb_d.py: hand tip -> thumb ->
# hand) is the layout 'nturgb+d_agcn'; ST-GCN++ keeps PySKL's 'nturgb+d'
# (tests/configs/test_released_data.py checks the edges)
CTRGCN_LAYOUT = {d: 'nturgb+d_agcn' for d in DATASET_DIRS
                 if d.startswith('ntu')}


@functools.lru_cache(maxsize=None)
def _load(path):
    return Config.fromfile(path)


def _cfg(dataset, stream, method='ctrgcn'):
    """A fresh copy of a parsed config (parsing is cached)."""
    return copy.deepcopy(
        _load(osp.join(REPO, 'configs', dataset, f'{method}_{stream}.py')))


def _inner(ds):
    return ds.get('dataset', ds)


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('dataset', DATASET_DIRS)
@pytest.mark.parametrize('stream', STREAMS)
def test_baseline_recipe(dataset, stream, method):
    cfg = _cfg(dataset, stream, method)
    classes, layout, persons, epochs, steps, wd, batch = EXPECTED[dataset]
    assert cfg.custom_imports.imports == ['mmskelcl']
    if method == 'ctrgcn':
        assert cfg.model.backbone.type == 'CTRGCN'
        assert cfg.model.backbone.graph_cfg.layout == CTRGCN_LAYOUT.get(
            dataset, layout)
        assert cfg.model.backbone.num_person == persons
    else:
        assert cfg.model.backbone.type == 'STGCN'
        assert cfg.model.backbone.tcn_type == 'mstcn'
        expected = resolve_layout(layout)
        got = cfg.model.backbone.graph_cfg.layout
        if isinstance(expected, dict):  # nwucla is spelled out in the cfg
            assert got.num_node == expected['num_node']
            assert [tuple(e) for e in got.inward] == expected['inward']
            assert got.center == expected['center']
        else:
            assert got == expected
    assert cfg.model.cls_head.num_classes == classes
    assert cfg.train_cfg.max_epochs == epochs
    warmup, step = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR',
                                                              0.2, 5)
    assert step.milestones == steps
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.nesterov,
            opt.weight_decay) == ('SGD', 0.1, 0.9, True, wd)
    assert cfg.train_dataloader.batch_size == batch
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = _inner(cfg[loader].dataset)
        assert ds.stream == stream, loader
        assert ds.num_classes == classes
        pack = ds.pipeline[-1]
        assert 'sample_idx' in pack.meta_keys and 'frame_dir' in pack.meta_keys
    # evaluation protocol: val reads the test split, so the last checkpoint
    # is reported and no best epoch is selected
    assert cfg.val_is_test is True
    assert cfg.default_hooks.checkpoint.save_best is None
    val, test = (_inner(cfg[k].dataset)
                 for k in ('val_dataloader', 'test_dataloader'))
    assert (val.ann_file, val.split) == (test.ann_file, test.split)


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('dataset', DATASET_DIRS)
def test_stream_files_are_short(dataset, method):
    for stream in STREAMS:
        path = osp.join(REPO, 'configs', dataset, f'{method}_{stream}.py')
        lines = [ln for ln in open(path) if ln.strip()]
        assert len(lines) <= 6, path


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('dataset', DATASET_DIRS)
def test_models_build_and_run(dataset, method):
    import torch
    cfg = _cfg(dataset, 'j', method)
    model = MODELS.build(cfg.model).eval()
    classes, layout, persons = EXPECTED[dataset][:3]
    joints = NUM_JOINTS[layout]
    x = torch.randn(1, 1, persons, 8, joints, 3)
    with torch.no_grad():
        scores, _ = model.extract_feat(x, stage='head')
    assert scores.shape == (1, classes)


@pytest.mark.parametrize('dataset', DATASET_DIRS)
def test_missing_file_says_how_to_get_it(dataset, tmp_path):
    cfg = _cfg(dataset, 'b')
    ds = dict(_inner(cfg.train_dataloader.dataset))
    ds['ann_file'] = str(tmp_path / 'absent.pkl')
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(ds)
    msg = str(err.value)
    assert 'absent.pkl' in msg
    assert ('wget' in msg) or ('tools/data/' in msg) or ('python' in msg)


def test_every_config_parses():
    files = [f for f in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                  recursive=True)
             if '_base_' not in f]
    assert len(files) >= 6 * 4
    for f in files:
        Config.fromfile(f)


CONTRAST_DIRS = ('finegym', 'ntu60_xsub', 'ntu60_xview', 'nwucla')


@pytest.mark.parametrize('method', ('cacl_ctrgcn', 'skeletongcl_ctrgcn'))
@pytest.mark.parametrize('dataset', CONTRAST_DIRS)
@pytest.mark.parametrize('stream', STREAMS)
def test_contrastive_configs(dataset, stream, method):
    cfg = _cfg(dataset, stream, method)
    base = _cfg(dataset, stream)
    classes, layout = EXPECTED[dataset][:2]
    head = cfg.model.aux_heads.graph
    assert cfg.model.type == 'AuxRecognizerGCN'
    # no hand-computed sizes: the recognizer sizes the head from the taps
    assert not {'in_dim', 'num_classes'} & set(head)
    assert dict(type='MemoryBankHook') in cfg.custom_hooks
    # same backbone, head, data and schedule as the baseline
    assert cfg.model.backbone == base.model.backbone
    assert cfg.model.cls_head == base.model.cls_head
    assert cfg.param_scheduler == base.param_scheduler
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert _inner(cfg[loader].dataset).stream == stream
    if method == 'skeletongcl_ctrgcn':
        assert head.sampler.neg_strategy == 'R+H'
        assert head.proj_trainable is False
        assert 'temperature' in head.loss
    else:
        assert set(head) == {'type'}  # the defaults are the paper's


@pytest.mark.parametrize('dataset', CONTRAST_DIRS)
def test_cacl_defaults_are_the_paper_settings(dataset):
    import torch
    cfg = _cfg(dataset, 'j', 'cacl_ctrgcn')
    model = MODELS.build(cfg.model)
    head = model.aux_heads['graph']
    s = head.sampler
    assert (s.num_pos, s.num_neg, s.pos_strategy, s.neg_strategy,
            s.mix_mode) == (128, 512, 'hard', 'R+CA', 'rows')
    assert s.min_pos_policy == 'use_available'
    assert (head.loss_fn.temperature, head.loss_fn.loss_weight) == (0.8, 1.0)
    assert head.proj.fc.weight.requires_grad
    assert head.bank.mode == 'index' and head.bank.size == 0  # hook sizes
    classes, layout, persons = EXPECTED[dataset][:3]
    # sized from the topology tap (K_v * V * V) and the classifier's K
    assert head.proj.fc.in_features == 3 * NUM_JOINTS[layout] ** 2
    std = float(head.proj.fc.weight.std())
    assert abs(std / (2 / classes) ** 0.5 - 1) < 0.05
    x = torch.randn(1, 1, persons, 8, NUM_JOINTS[layout], 3)
    with torch.no_grad():
        scores, _ = model.extract_feat(x, stage='head')
    assert scores.shape == (1, classes)
