"""Class names in ``tools/test.py --per-class`` and ``tools/analysis/report.py``
(issue 14): the names of the test pickle, else of the checkpoint, label by
label, with per-class counts and accuracies computed here from the pickle's
labels and the dumped scores.

One tiny CTR-GCN run (3 classes, 1 epoch) is trained through
``tools/train.py`` on a pickle whose classes are named out of alphabetical
order; its validation split holds 2, 2 and 1 clips of labels 0, 1, 2.
"""
import os.path as osp
import pickle
from types import ModuleType
from typing import Dict, List

import numpy as np
import pytest
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

import mmskelcl  # noqa: F401
from mmskelcl.analysis.per_class import (class_names_from_meta,
                                         fitting_names, per_class_counts)
from mmskelcl.utils.safe_pickle import safe_load
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('wave', 'kick', 'jump')


def _tool(name: str) -> ModuleType:
    return load_tool(name + '.py')


TRAIN, TEST, REPORT = _tool('train'), _tool('test'), _tool('analysis/report')


def _write_pickle(path: str, classes=None) -> Dict[str, int]:
    """The tiny pickle (14 clips, val = clips 9-13), optionally named;
    returns the val labels by id."""
    write_tiny_pickle(path, n=14)
    with open(path, 'rb') as f:
        data = pickle.load(f)
    if classes is not None:
        data['classes'] = list(classes)
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    val = set(data['split']['val'])
    return {a['frame_dir']: int(a['label']) for a in data['annotations']
            if a['frame_dir'] in val}


@pytest.fixture(scope='module')
def run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('per_class')
    ann = str(root / 'named.pkl')
    val_labels = _write_pickle(ann, CLASSES)
    model = dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    cfg = tiny_runner_cfg(ann, str(root / 'unused'), model, max_epochs=1,
                          val_interval=100)
    cfg.pop('work_dir')
    config = str(root / 'ctrgcn_j.py')
    cfg.dump(config)
    TRAIN.main([config, '--work-dir', str(root / 'train')])
    return dict(root=root, ann=ann, config=config, val_labels=val_labels,
                ckpt=str(root / 'train' / 'epoch_1.pth'))


def _table(out: str, title: str) -> List[List[str]]:
    """Rows of the first table after a line starting with ``title``."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(title))
    rows = []
    for ln in lines[start + 3:]:  # title, header, rule
        if ' | ' not in ln:
            break
        rows.append([c.strip() for c in ln.split(' | ')])
    return rows


def _expected(dump: str, stream: str, val_labels: Dict[str, int]):
    """Samples and top-1 hits per class from the pickle's labels and the
    dumped scores of one stream, matched by clip id."""
    data = safe_load(dump)
    scores = np.asarray(data['stream_scores'][stream])
    samples, hits = np.zeros(3, int), np.zeros(3, int)
    for i, clip in enumerate(data['ids']):
        label = val_labels[clip]
        samples[label] += 1
        hits[label] += int(np.argmax(scores[i]) == label)
    return samples, hits


def test_per_class_table_names_each_label(run, tmp_path, monkeypatch,
                                          capsys):
    monkeypatch.chdir(tmp_path)
    dump = str(tmp_path / 'scores.pkl')
    TEST.main([run['config'], run['ckpt'], '--per-class', '--dump', dump])
    rows = _table(capsys.readouterr().out, 'Per-class top-1 accuracy')
    samples, hits = _expected(dump, 'ctrgcn_j', run['val_labels'])
    assert list(samples) == [2, 2, 1]
    assert rows == [[str(i), CLASSES[i], str(samples[i]),
                     f'{100 * hits[i] / samples[i]:.2f}'] for i in range(3)]
    # the names travel in the dump
    assert safe_load(dump)['meta']['ctrgcn_j']['classes'] == list(CLASSES)


def test_multi_stream_columns_and_label_map(run, tmp_path, monkeypatch,
                                            capsys):
    """A column per stream and the fusion; --label-map overrides."""
    monkeypatch.chdir(tmp_path)
    label_map = tmp_path / 'names.txt'
    label_map.write_text('A0\nA1\nA2\n')
    dump = str(tmp_path / 'two.pkl')
    TEST.main([run['config'], run['ckpt'], run['config'], run['ckpt'],
               '--stream-names', 'x', 'y', '--per-class', '--label-map',
               str(label_map), '--dump', dump])
    out = capsys.readouterr().out
    header = out.splitlines()[out.splitlines().index(next(
        ln for ln in out.splitlines() if ln.startswith('Per-class'))) + 1]
    assert [c.strip() for c in header.split(' | ')] == [
        'label', 'class', 'samples', 'x', 'y', 'fused']
    rows = _table(out, 'Per-class top-1 accuracy')
    samples, hits = _expected(dump, 'x', run['val_labels'])
    acc = [f'{100 * hits[i] / samples[i]:.2f}' for i in range(3)]
    # the same checkpoint twice: both streams and the fusion agree
    assert rows == [[str(i), f'A{i}', str(samples[i])] + [acc[i]] * 3
                    for i in range(3)]


def test_names_of_the_test_pickle_else_the_checkpoint(run, tmp_path,
                                                      monkeypatch, capsys):
    """Own data without names: the checkpoint's; own data with other names
    (what its labels mean): the test pickle's."""
    monkeypatch.chdir(tmp_path)
    plain = str(tmp_path / 'plain.pkl')
    _write_pickle(plain)
    TEST.main([run['config'], run['ckpt'], '--ann-file', plain,
               '--per-class'])
    out = capsys.readouterr().out
    assert f'class names: checkpoint {run["ckpt"]}' in out
    assert [r[1] for r in _table(out, 'Per-class')] == list(CLASSES)
    renamed = str(tmp_path / 'renamed.pkl')
    _write_pickle(renamed, ('run', 'sit', 'stand'))
    TEST.main([run['config'], run['ckpt'], '--ann-file', renamed,
               '--per-class'])
    out = capsys.readouterr().out
    assert [r[1] for r in _table(out, 'Per-class')] == ['run', 'sit',
                                                         'stand']


def test_report_shows_the_dumped_names(run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    dump = str(tmp_path / 'scores.pkl')
    TEST.main([run['config'], run['ckpt'], '--dump', dump])
    capsys.readouterr()
    samples, hits = _expected(dump, 'ctrgcn_j', run['val_labels'])
    expected = [[str(i), CLASSES[i], str(samples[i]), str(hits[i]),
                 f'{100 * hits[i] / samples[i]:.2f}'] for i in range(3)]
    REPORT.main([dump])
    assert _table(capsys.readouterr().out, 'Per-class accuracy') == expected
    # a dump without stored names: the checkpoint its meta names
    data = safe_load(dump)
    for meta in data['meta'].values():
        del meta['classes']
    old = str(tmp_path / 'old.pkl')
    with open(old, 'wb') as f:
        pickle.dump(data, f)
    REPORT.main([old, '--stream', 'ctrgcn_j'])
    assert _table(capsys.readouterr().out, 'Per-class accuracy') == expected


def test_names_of_another_count_are_not_used():
    with pytest.warns(UserWarning, match='the score file names 2 classes '
                      'but the scores have 3'):
        assert fitting_names(['a', 'b'], 3, 'the score file') is None
    meta = dict(stream_meta=dict(j=dict(classes=['a', 'b', 'c'])))
    assert class_names_from_meta(meta, 3) == (['a', 'b', 'c'],
                                              'the score file')
    assert class_names_from_meta({}, 3) == (None, 'none stored')


def test_per_class_counts_by_hand():
    scores = np.array([[.9, .1, 0], [.2, .7, .1], [.6, .3, .1],
                       [0, .2, .8], [.5, .4, .1]])
    labels = np.array([0, 1, 1, 2, 0])
    samples, correct = per_class_counts(scores, labels, 4)
    assert samples.tolist() == [2, 2, 1, 0]
    assert correct.tolist() == [2, 1, 1, 0]
