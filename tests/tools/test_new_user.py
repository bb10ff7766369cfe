"""Errors a new user meets (issue 14): each says what is wrong and the fix.

Label summary of a pickle that does not fit the config, a skeleton with
the wrong joint count in ``tools/infer.py``, converters and checkers given
an empty folder or a missing file, and ``--help`` of the tools.
"""
import argparse
import os.path as osp
from types import ModuleType

import numpy as np
import pytest
import torch
from mmengine.config import Config
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

import mmskelcl  # noqa: F401
from mmskelcl.datasets.validation import AnnotationError
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(path: str) -> ModuleType:
    return load_tool(path)


def test_label_summary_when_labels_exceed_num_classes(tmp_path):
    """20 per-sample problems used to come without the range and the fix."""
    from mmaction.registry import DATASETS
    ann = str(tmp_path / 'five.pkl')
    write_tiny_pickle(ann, n=15, num_classes=5)
    with pytest.raises(AnnotationError) as exc:
        DATASETS.build(dict(type='SkeletonDataset', ann_file=ann,
                            pipeline=[], split='train', num_classes=3))
    lines = str(exc.value).splitlines()
    # train = clip00..clip08: labels 3 and 4 at clips 3, 4, 8
    assert lines[0] == f'3 problem(s) in annotation file {ann}:'
    assert lines[1] == (
        '  labels 0-4 in the file, the config expects 3 classes: set '
        'num_classes=5 on the datasets and heads (tools/train.py / test.py '
        '--num-classes 5), or relabel the file to 0-2')
    assert len(lines) == 2 + 3


def test_infer_refuses_a_skeleton_of_another_layout(tmp_path, capsys):
    """25 joints into a 17-joint (COCO) model failed inside BatchNorm."""
    cfg = tiny_runner_cfg(str(tmp_path / 'tiny.pkl'), str(tmp_path),
                          dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
                               cls_head=dict(type='GCNHead', num_classes=3,
                                             in_channels=8)))
    config = str(tmp_path / 'coco.py')
    cfg.dump(config)
    from mmaction.registry import MODELS
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / 'coco.pth')
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), ckpt)
    clip = str(tmp_path / 'ntu.npy')
    np.save(clip, np.random.default_rng(0).normal(size=(1, 12, 25, 3)))
    infer = _tool('infer.py')
    with pytest.raises(SystemExit) as exc:
        infer.main([config, ckpt, clip])
    assert exc.value.code == (
        f"error: {clip}: input: 25 joints per frame but the config's layout "
        "'coco' (model.backbone.graph_cfg) has 17; give a 17-joint skeleton "
        'in that joint order, or a config whose layout has 25 joints')
    np.save(clip, np.random.default_rng(0).normal(size=(1, 12, 17, 3)))
    infer.main([config, ckpt, clip])  # the right layout classifies
    assert 'input' in capsys.readouterr().out


def test_nwucla_converter_on_an_empty_folder(tmp_path, capsys):
    tool = _tool('data/nwucla_to_pkl.py')
    assert tool.main([str(tmp_path), str(tmp_path / 'out.pkl')]) == 2
    err = capsys.readouterr().err
    assert 'give the all_sqe/ folder of NW-UCLA' in err
    assert 'a01_s01_e00_v01.json' in err
    assert not (tmp_path / 'out.pkl').exists()


def test_check_pkl_on_a_missing_file(tmp_path, capsys):
    tool = _tool('data/check_pkl.py')
    missing = str(tmp_path / 'nope.pkl')
    assert tool.main([missing]) == 2
    assert capsys.readouterr().out == f'{missing}: file does not exist\n'


class _Parsed(Exception):
    pass


def _parser(tool: ModuleType, monkeypatch,
            argv=None) -> argparse.ArgumentParser:
    """The parser a tool builds (caught at its ``parse_args`` call)."""
    found = {}

    def grab(self, args=None, namespace=None):
        found['parser'] = self
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args', grab)
    with pytest.raises(_Parsed):
        tool.parse_args(*([] if argv is None else [argv]))
    return found['parser']


@pytest.mark.parametrize('path', ['train.py', 'test.py', 'infer.py',
                                  'run_demo.py'])
def test_help_texts(path, monkeypatch):
    tool = _tool(path)
    parser = _parser(tool, monkeypatch, None if path == 'run_demo.py'
                     else [])
    actions = [a for a in parser._actions
               if not isinstance(a, argparse._HelpAction)]
    assert all(a.help for a in actions), [a.dest for a in actions
                                          if not a.help]
    helps = [a.help for a in actions]
    assert len(set(helps)) == len(helps)  # no copied help text
    assert parser.description.endswith('.') or path != 'run_demo.py'
    text = parser.format_help()
    assert '(default: None)' not in text
    for action in actions:  # set defaults are shown
        if action.default not in (None, False, argparse.SUPPRESS) and \
                isinstance(action.default, (int, str)):
            assert f'(default: {action.default})' in ' '.join(text.split())


def test_nwucla_converter_stores_class_names(tmp_path):
    """NW-UCLA action a12 is 'carry', the tenth label."""
    import json

    from mmaction.registry import DATASETS

    from mmskelcl.datasets.converters import convert_nwucla
    src = tmp_path / 'all_sqe'
    src.mkdir()
    rng = np.random.default_rng(0)
    for stem in ('a01_s01_e00_v01', 'a12_s03_e00_v01', 'a08_s01_e00_v03'):
        (src / f'{stem}.json').write_text(json.dumps(dict(
            file_name=stem, skeletons=rng.uniform(-1, 1, (6, 20, 3)).tolist())))
    out = str(tmp_path / 'nwucla.pkl')
    data = convert_nwucla(str(src), out, progress=False)
    names = {a['frame_dir']: data['classes'][a['label']]
             for a in data['annotations']}
    assert names == {'a01_s01_e00_v01': 'pick up with one hand',
                     'a12_s03_e00_v01': 'carry',
                     'a08_s01_e00_v03': 'donning'}
    ds = DATASETS.build(dict(type='SkeletonDataset', ann_file=out,
                             pipeline=[], split='train', num_classes=10))
    assert ds.metainfo['classes'] == data['classes']
    assert len(data['classes']) == 10
