"""What a new user hits (issue 14): tools/train.py and tools/test.py check
their inputs before a Runner exists and refuse wrong pairs instead of
printing results of a randomly initialised or wrong-stream model.

One tiny CACL run (CTR-GCN + GraphContrastHead, stream j, 1 epoch) is
trained through ``tools/train.py``; its checkpoint is then tested with
configs of the right and wrong model and stream through ``tools/test.py``.
"""
import os
import os.path as osp
import pickle
import warnings
from types import ModuleType

import numpy as np
import pytest
import torch
from mmengine.config import Config
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

import mmskelcl  # noqa: F401
from mmskelcl.utils.preflight import (apply_data_overrides, cap_num_workers,
                                      leaf_datasets, stream_of_checkpoint)
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(name: str) -> ModuleType:
    return load_tool(f'{name}.py')


TRAIN, TEST = _tool('train'), _tool('test')
GRAPH_HEAD = dict(type='GraphContrastHead', in_dim=3 * 17 * 17,
                  num_classes=3, proj_dim=16,
                  sampler=dict(num_pos=2, num_neg=3))
CLASSES = ('wave', 'kick', 'jump')
STGCN = dict(type='STGCN', graph_cfg=dict(layout='coco', mode='stgcn_spatial'),
             num_stages=2, base_channels=8, inflate_stages=[],
             down_stages=[])


def _model(aux: bool = False, backbone: dict = TINY_BACKBONE,
           num_classes: int = 3) -> dict:
    model = dict(type='AuxRecognizerGCN' if aux else 'RecognizerGCN',
                 backbone=backbone,
                 cls_head=dict(type='GCNHead', num_classes=num_classes,
                               in_channels=8))
    if aux:
        model['aux_heads'] = dict(graph=dict(GRAPH_HEAD,
                                             num_classes=num_classes))
    return model


def _write_cfg(root, name: str, ann_file: str, stream: str = 'j',
               **model_kw) -> str:
    cfg = tiny_runner_cfg(ann_file, str(root / 'unused'), _model(**model_kw),
                          max_epochs=1, stream=stream, val_interval=100)
    cfg.custom_hooks = [dict(type='MemoryBankHook')]
    cfg.pop('work_dir')  # the tools choose it
    path = str(root / f'{name}.py')
    cfg.dump(path)
    return path


@pytest.fixture(scope='module')
def run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('preflight')
    ann = str(root / 'tiny.pkl')
    write_tiny_pickle(ann)
    with open(ann, 'rb') as f:
        data = pickle.load(f)
    data['classes'] = list(CLASSES)  # as the converters write them
    with open(ann, 'wb') as f:
        pickle.dump(data, f)
    files = dict(root=root, ann=ann)
    files['cacl_j'] = _write_cfg(root, 'cacl_j', ann, aux=True)
    files['j'] = _write_cfg(root, 'ctrgcn_j', ann)
    files['b'] = _write_cfg(root, 'ctrgcn_b', ann, stream='b')
    files['stgcn_j'] = _write_cfg(root, 'stgcn_j', ann, backbone=STGCN)
    TRAIN.main([files['cacl_j'], '--work-dir', str(root / 'train')])
    files['ckpt'] = str(root / 'train' / 'epoch_1.pth')
    return files


def _refused(tool, argv, cwd, monkeypatch) -> str:
    monkeypatch.chdir(cwd)
    before = set(os.listdir(cwd))
    with pytest.raises(SystemExit) as exc:
        tool.main(argv)
    assert isinstance(exc.value.code, str), exc.value.code  # exit status 1
    assert set(os.listdir(cwd)) == before  # no work dir, no dump
    return exc.value.code


def test_checkpoint_records_its_stream(run):
    ckpt = torch.load(run['ckpt'], map_location='cpu', weights_only=False)
    assert ckpt['meta']['stream'] == 'j'
    assert any(k.startswith('aux_heads.graph.') for k in ckpt['state_dict'])
    # checkpoints of runs without the hook: read from the stored config
    meta = dict(ckpt['meta'])
    del meta['stream']
    assert stream_of_checkpoint(meta) == 'j'
    meta['cfg'] = meta['cfg'].replace("stream='j'", "stream='bm'")
    assert stream_of_checkpoint(meta) == 'bm'


def test_stored_config_text_is_read_not_run(run, tmp_path, monkeypatch):
    """Issue 20: a checkpoint without ``meta['stream']`` whose stored
    config text holds code: tools/test.py reads its stream as data (the
    mismatch is still found) and the code never runs."""
    canary = tmp_path / 'canary'
    ckpt = torch.load(run['ckpt'], map_location='cpu', weights_only=False)
    del ckpt['meta']['stream']
    ckpt['meta']['cfg'] = ckpt['meta']['cfg'].replace(
        "stream='j'", "stream='bm'") + \
        f"_ = __import__('os').system('touch {canary}')\n"
    evil = str(tmp_path / 'epoch_1.pth')
    torch.save(ckpt, evil)
    msg = _refused(TEST, [run['j'], evil], tmp_path, monkeypatch)
    assert not canary.exists()
    assert "was trained on stream 'bm'" in msg, msg


def test_test_tool_refuses_checkpoint_of_another_model(run, tmp_path,
                                                       monkeypatch):
    """An STGCN config with a CTR-GCN checkpoint used to print a results
    table of a randomly initialised model."""
    msg = _refused(TEST, [run['stgcn_j'], run['ckpt']], tmp_path,
                   monkeypatch)
    from mmaction.registry import MODELS
    stgcn = set(MODELS.build(_model(backbone=STGCN)).state_dict())
    saved = set(torch.load(run['ckpt'], map_location='cpu',
                           weights_only=False)['state_dict'])
    n_missing = len(stgcn - saved)
    assert 0 < n_missing < len(stgcn)  # cls_head.fc matches
    assert msg.count('\n') == 0  # one line
    assert run['stgcn_j'] in msg and run['ckpt'] in msg
    assert f'leaves {n_missing} of {len(stgcn)} model weights unset' in msg


def test_test_tool_accepts_aux_checkpoint_in_plain_config(run, tmp_path,
                                                          monkeypatch):
    """Auxiliary-head keys are excepted both ways; nothing is dumped
    without --dump; the work dir is work_dirs/<folder>/<config>."""
    monkeypatch.chdir(tmp_path)
    for config in (run['j'], run['cacl_j']):
        TEST.main([config, run['ckpt']])
    stem_dirs = sorted(os.listdir(tmp_path / 'work_dirs' / run['root'].name))
    assert stem_dirs == ['cacl_j', 'ctrgcn_j']
    pickles = [f for _, _, fs in os.walk(tmp_path) for f in fs
               if f.endswith('.pkl')]
    assert pickles == []


def test_test_tool_refuses_stream_mismatch(run, tmp_path, monkeypatch,
                                           capsys):
    msg = _refused(TEST, [run['b'], run['ckpt']], tmp_path, monkeypatch)
    assert "tests stream 'b'" in msg and "trained on stream 'j'" in msg
    assert '--allow-stream-mismatch' in msg
    TEST.main([run['b'], run['ckpt'], '--allow-stream-mismatch'])
    assert 'ctrgcn_b' in capsys.readouterr().out


def test_multi_stream_checks_every_pair_first(run, tmp_path, monkeypatch):
    """The missing second checkpoint is reported before stream j runs."""
    missing = str(tmp_path / 'missing.pth')
    msg = _refused(TEST, [run['j'], run['ckpt'], run['b'], missing],
                   tmp_path, monkeypatch)
    assert msg == f'error: {run["b"]}: checkpoint not found: {missing}'


def test_missing_annotation_file(run, tmp_path, monkeypatch):
    """A shipped config on a fresh clone: the hint alone, exit 1, no work
    dir (the Runner used to print its environment and a traceback)."""
    config = osp.join(REPO, 'configs', 'ntu60_xsub', 'ctrgcn_j.py')
    msg = _refused(TRAIN, [config], tmp_path, monkeypatch)
    assert msg.startswith(f'error: {config}: annotation file not found: '
                          'data/nturgbd/ntu60_3d.pkl '
                          '(train_dataloader.dataset.ann_file)')
    assert 'wget https://download.openmmlab.com' in msg
    assert '--ann-file PATH' in msg
    msg = _refused(TRAIN, ['no/such/config.py'], tmp_path, monkeypatch)
    assert msg == 'error: config file not found: no/such/config.py'


def test_dataset_and_head_class_counts_disagree(run, tmp_path, monkeypatch):
    cfg = Config.fromfile(run['cacl_j'])
    for _, ds in leaf_datasets(cfg):
        ds['num_classes'] = 20
    config = str(tmp_path / 'k20.py')
    cfg.dump(config)
    msg = _refused(TRAIN, [config], tmp_path, monkeypatch)
    assert msg == (
        f'error: {config}: train_dataloader.dataset.num_classes=20 but '
        'model.cls_head.num_classes=3, model.aux_heads.graph.num_classes=3; '
        'set them to the same count (--num-classes 20 sets every loader '
        'and head)')


def test_labels_beyond_the_head_stop_before_the_loss(run, tmp_path,
                                                     monkeypatch):
    """No dataset num_classes, labels 0-4, a 3-class head: a clear error
    instead of ``IndexError: Target 3 is out of bounds``."""
    ann = str(tmp_path / 'five.pkl')
    write_tiny_pickle(ann, n=15, num_classes=5)
    cfg = Config.fromfile(run['j'])
    for _, ds in leaf_datasets(cfg):
        ds.pop('num_classes')
        ds['ann_file'] = ann
    config = str(tmp_path / 'five.py')
    cfg.dump(config)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as exc:
        TRAIN.main([config])
    assert str(exc.value) == (
        f'{ann}: labels 0-4 in the train_dataloader set but the head has 3 '
        'classes; set num_classes=5 on the datasets, model.cls_head and '
        'every model.aux_heads.* (or pass --num-classes 5 to '
        'tools/train.py / test.py)')
    assert not (tmp_path / 'work_dirs' / tmp_path.name / 'five' /
                'epoch_1.pth').exists()


def test_ann_file_and_num_classes_flags(run, tmp_path, monkeypatch):
    """--ann-file/--num-classes retarget a config with a dead ann_file to
    a 5-class pickle: datasets, head and auxiliary head all follow."""
    ann = str(tmp_path / 'five.pkl')
    write_tiny_pickle(ann, n=15, num_classes=5)
    cfg = Config.fromfile(run['cacl_j'])
    for _, ds in leaf_datasets(cfg):
        ds['ann_file'] = 'nowhere/data.pkl'
    config = str(tmp_path / 'dead.py')
    cfg.dump(config)
    monkeypatch.chdir(tmp_path)
    TRAIN.main([config, '--ann-file', ann, '--num-classes', '5'])
    ckpt = tmp_path / 'work_dirs' / tmp_path.name / 'dead' / 'epoch_1.pth'
    state = torch.load(str(ckpt), map_location='cpu',
                       weights_only=False)['state_dict']
    assert state['cls_head.fc.weight'].shape[0] == 5
    bank_labels = state['aux_heads.graph.contrast.bank.labels']
    with open(ann, 'rb') as f:
        train_ids = pickle.load(f)['split']['train']
    assert sorted(bank_labels.tolist()) == sorted(
        int(i[4:]) % 5 for i in train_ids)


def test_overrides_on_a_shipped_wrapped_config():
    """NW-UCLA wraps its train set in RepeatDataset: one flag reaches it."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'nwucla', 'cacl_ctrgcn_j.py'))
    apply_data_overrides(cfg, 'my/data.pkl', 20)
    keys = [k for k, _ in leaf_datasets(cfg)]
    assert 'train_dataloader.dataset.dataset' in keys
    assert len(keys) == 3
    for _, ds in leaf_datasets(cfg):
        assert ds['ann_file'] == 'my/data.pkl' and ds['num_classes'] == 20
        assert 'missing_hint' not in ds
    assert cfg.model.cls_head.num_classes == 20
    # the head dicts state no size: the recognizer gives every auxiliary
    # head the classifier's count, unless the head sets its own
    assert cfg.model.aux_heads.graph.get('num_classes', 20) == 20
    assert np.isclose(cfg.model.cls_head.init_cfg['std'], 0.1 ** 0.5)
    cap_num_workers(cfg, cpus=2)
    assert cfg.train_dataloader.num_workers == 2
    cap_num_workers(cfg, cpus=64)  # never raised
    assert cfg.train_dataloader.num_workers == 2


def test_overrides_reach_the_knn_bank_of_a_pretraining_config():
    """A self-supervised config's kNN bank loader (val_cfg) is a loader
    too: --ann-file must move it with the others, and its workers are
    capped."""
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'nwucla', 'skeattnclr_stgcn_j_pretrain.py'))
    cfg.val_cfg.bank_dataloader.num_workers = 16
    apply_data_overrides(cfg, 'my/data.pkl')
    keys = sorted(k for k, _ in leaf_datasets(cfg))
    assert keys == ['train_dataloader.dataset',
                    'val_cfg.bank_dataloader.dataset',
                    'val_dataloader.dataset']
    assert cfg.val_cfg.bank_dataloader.dataset.ann_file == 'my/data.pkl'
    assert cfg.val_dataloader.dataset.ann_file == 'my/data.pkl'
    cap_num_workers(cfg, cpus=2)
    assert cfg.val_cfg.bank_dataloader.num_workers == 2


def test_report_reads_the_schedule_from_the_checkpoint(run):
    """A 1-epoch run of a 65-epoch config is its last checkpoint."""
    from mmskelcl.analysis.protocol import describe_checkpoint
    cfg = Config.fromfile(run['cacl_j'])
    cfg.train_cfg.max_epochs = 65
    assert describe_checkpoint(cfg, run['ckpt']) == \
        'epoch_1.pth: last checkpoint (epoch 1 of 1)'
    missing = str(run['root'] / 'elsewhere' / 'epoch_1.pth')
    assert describe_checkpoint(cfg, missing) == \
        'epoch_1.pth: epoch 1 of 65, not the last checkpoint'


def test_report_of_a_real_dump_reads_everything_as_data(run, tmp_path,
                                                       monkeypatch, capsys):
    """report.py on a ``test.py --dump`` file (65-epoch test config, the
    1-epoch checkpoint) prints the protocol lines it printed before issue
    20, the trained epochs taken from the checkpoint's ``meta['cfg']``, now
    read as data: no config executed, only ``weights_only`` loads, no
    warning. An older dump (no ``protocol_cfg``) reads the config file's
    text and gives the same report."""
    cfg = Config.fromfile(run['j'])
    cfg.train_cfg.max_epochs = 65
    config, dump = str(tmp_path / 'j_65e.py'), str(tmp_path / 'scores.pkl')
    cfg.dump(config)
    TEST.main([config, run['ckpt'], '--work-dir', str(tmp_path / 'w'),
               '--dump', dump])
    with open(dump, 'rb') as f:
        old = pickle.load(f)
    assert old['meta']['j_65e']['protocol_cfg']['train_cfg'] == \
        dict(max_epochs=65)
    del old['meta']['j_65e']['protocol_cfg']
    with open(str(tmp_path / 'old.pkl'), 'wb') as f:
        pickle.dump(old, f)

    def refuse(*args, **kwargs):
        raise AssertionError(f'a config was executed: {args}')

    real_load = torch.load

    def weights_only_load(*args, **kwargs):
        assert kwargs.get('weights_only') is True, kwargs
        return real_load(*args, **kwargs)

    monkeypatch.setattr(Config, 'fromfile', refuse)
    monkeypatch.setattr(Config, 'fromstring', refuse)
    monkeypatch.setattr(torch, 'load', weights_only_load)
    report = load_tool('analysis/report.py')
    texts = []
    for path in (dump, str(tmp_path / 'old.pkl')):
        capsys.readouterr()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            report.main([path])
        assert not [w for w in caught if 'mmcv' not in str(w.message)]
        texts.append(capsys.readouterr().out.replace('old', 'scores'))
    assert texts[0] == texts[1]
    assert 'Evaluation protocol:\n  j_65e: epoch_1.pth: last checkpoint ' \
        '(epoch 1 of 1)\n  this dataset has no validation split apart ' \
        'from the test split: no checkpoint may be selected on it\n' \
        in texts[0], texts[0]
    assert all(f' {name} ' in texts[0] for name in CLASSES)


def test_class_names_travel_from_the_pickle_to_infer(run, capsys):
    ckpt = torch.load(run['ckpt'], map_location='cpu', weights_only=False)
    assert ckpt['meta']['dataset_meta']['classes'] == list(CLASSES)
    _tool('infer').main([run['j'], run['ckpt'], run['ann'], '--index', '0',
                         '--topk', '3'])
    out = capsys.readouterr().out
    assert all(f' {name}' in out for name in CLASSES), out
