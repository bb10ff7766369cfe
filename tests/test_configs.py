"""The shipped configs (this test reads configs/ on purpose)."""
import glob
import os.path as osp

import pytest
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
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


def _cfg(dataset, stream):
    return Config.fromfile(
        osp.join(REPO, 'configs', dataset, f'ctrgcn_{stream}.py'))


def _inner(ds):
    return ds.get('dataset', ds)


@pytest.mark.parametrize('dataset', DATASET_DIRS)
@pytest.mark.parametrize('stream', STREAMS)
def test_baseline_recipe(dataset, stream):
    cfg = _cfg(dataset, stream)
    classes, layout, persons, epochs, steps, wd, batch = EXPECTED[dataset]
    assert cfg.custom_imports.imports == ['mmskelcl']
    assert cfg.model.backbone.type == 'CTRGCN'
    assert cfg.model.backbone.graph_cfg.layout == layout
    assert cfg.model.backbone.num_person == persons
    assert cfg.model.cls_head.num_classes == classes
    assert cfg.train_cfg.max_epochs == epochs
    warmup, step = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR',
                                                              0.2, 4)
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
    if dataset == 'finegym':
        assert cfg.default_hooks.checkpoint.save_best == 'acc/mean1'


@pytest.mark.parametrize('dataset', DATASET_DIRS)
def test_stream_files_are_short(dataset):
    for stream in STREAMS:
        path = osp.join(REPO, 'configs', dataset, f'ctrgcn_{stream}.py')
        lines = [ln for ln in open(path) if ln.strip()]
        assert len(lines) <= 6, path


@pytest.mark.parametrize('dataset', DATASET_DIRS)
def test_models_build(dataset):
    cfg = _cfg(dataset, 'j')
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'CTRGCN'


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
