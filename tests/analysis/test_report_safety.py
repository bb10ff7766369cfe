"""``tools/analysis/report.py`` runs nothing from a score file or from
what it names (issue 20, items 1-3): the checkpoint of ``meta['checkpoint']``
is opened only with the safe checkpoint loader, its ``meta['cfg']`` and the
config file of ``meta['config']`` are read as data (never executed).

Each payload would create a canary file; the report still prints, with one
warning line naming the file and what was not run or not read.
"""
import os
import os.path as osp
import pickle
import warnings

import numpy as np
import torch

from ._analysis_helpers import hand_scores, load_tool

# a stored config text as mmengine writes it (Config.pretty_text): data only
CFG_TEXT = """train_cfg = dict(max_epochs=3, type='EpochBasedTrainLoop')
val_dataloader = dict(dataset=dict(ann_file='a.pkl', split='val'))
test_dataloader = dict(dataset=dict(ann_file='a.pkl', split='test'))
"""


class _Payload:
    """Pickles as a call of ``os.system`` (what a hostile file holds)."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


def _touch(canary: str) -> str:
    return f'touch {canary}'


def _score_dump(tmp_path, **meta) -> str:
    ids, scores, labels = hand_scores()
    path = str(tmp_path / 'scores.pkl')
    with open(path, 'wb') as f:
        pickle.dump(dict(ids=ids, scores=scores, labels=labels, stream='j',
                         meta=meta), f)
    return path


def _fused_dump(tmp_path, **stream_meta) -> str:
    """A ``tools/test.py --dump`` style multi-stream file, stream 'j'."""
    ids, scores, labels = hand_scores()
    path = str(tmp_path / 'fused.pkl')
    with open(path, 'wb') as f:
        pickle.dump(dict(format='mmskelcl.fusion', version=1, ids=ids,
                         labels=labels, streams=['j'], weights=[1.0],
                         stream_scores=dict(j=scores), fused=scores,
                         metrics={}, apply_softmax=False,
                         meta=dict(j=stream_meta)), f)
    return path


def _report(path: str, capsys) -> tuple:
    """report.py on ``path``: its stdout and the warning messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        load_tool('analysis', 'report.py').main([path])
    messages = [str(w.message) for w in caught
                if 'mmcv' not in str(w.message)]
    return capsys.readouterr().out, messages


def _protocol(out: str) -> list:
    """The lines of the report's 'Evaluation protocol' entry."""
    lines = out.splitlines()
    i = next(i for i, ln in enumerate(lines)
             if ln.startswith('Evaluation protocol:'))
    first = lines[i][len('Evaluation protocol:'):].strip()
    if first:
        return [first]
    return [ln.strip() for ln in lines[i + 1:] if ln.startswith('  ')]


def test_code_in_the_named_checkpoint_does_not_run(tmp_path, capsys):
    """Item 1: an ``epoch_N.pth`` with a ``__reduce__`` payload (testing a
    downloaded checkpoint records its path in one's own dump)."""
    canary = str(tmp_path / 'canary_ckpt')
    ckpt = str(tmp_path / 'epoch_3.pth')
    torch.save(dict(meta=dict(cfg=CFG_TEXT), state_dict={},
                    extra=_Payload(_touch(canary))), ckpt)
    out, messages = _report(_score_dump(tmp_path, checkpoint=ckpt), capsys)
    assert not osp.exists(canary)
    assert _protocol(out) == ['epoch_3.pth: epoch 3 (last of the run '
                              'unknown); val/test splits unknown']
    mine = [m for m in messages if ckpt in m]
    assert len(mine) == 1 and '\n' not in mine[0], messages
    assert 'not read' in mine[0] and 'system' in mine[0], mine[0]
    # the same checkpoint named by a stream of a fused dump
    out, messages = _report(_fused_dump(tmp_path, checkpoint=ckpt), capsys)
    assert not osp.exists(canary)
    assert _protocol(out) == ['j: epoch_3.pth: epoch 3 (last of the run '
                              'unknown)', 'val/test splits unknown']
    assert len([m for m in messages if ckpt in m]) == 1


def test_code_in_the_stored_config_text_does_not_run(tmp_path, capsys):
    """Item 2: a harmless checkpoint (the safe loader accepts it) whose
    ``meta['cfg']`` string runs ``os.system`` when executed; its data
    (the 3-epoch schedule) is still read."""
    canary = str(tmp_path / 'canary_cfg')
    ckpt = str(tmp_path / 'epoch_3.pth')
    text = CFG_TEXT + f"_ = __import__('os').system('{_touch(canary)}')\n"
    torch.save(dict(meta=dict(cfg=text), state_dict=dict(w=torch.ones(2))),
               ckpt)
    out, messages = _report(_score_dump(tmp_path, checkpoint=ckpt), capsys)
    assert not osp.exists(canary)
    assert _protocol(out) == ['epoch_3.pth: last checkpoint (epoch 3 of '
                              '3); val/test splits unknown']
    mine = [m for m in messages if ckpt in m]
    assert len(mine) == 1 and '\n' not in mine[0], messages
    assert "meta['cfg']" in mine[0] and 'line 4' in mine[0] and \
        'not run' in mine[0], mine[0]


def test_code_in_the_named_config_file_does_not_run(tmp_path, capsys):
    """Item 3: ``meta['config']`` names a ``.py`` config that runs
    ``os.system``; its plain assignments (splits, schedule) are read."""
    canary = str(tmp_path / 'canary_config')
    config = str(tmp_path / 'evil_config.py')
    with open(config, 'w') as f:
        f.write(f"_ = __import__('os').system('{_touch(canary)}')\n" +
                CFG_TEXT)
    dump = _score_dump(tmp_path, config=config,
                       checkpoint=str(tmp_path / 'gone' / 'epoch_3.pth'))
    out, messages = _report(dump, capsys)
    assert not osp.exists(canary)
    assert _protocol(out) == [
        'epoch_3.pth: last checkpoint (epoch 3 of 3); validation split '
        'differs from the test split']
    mine = [m for m in messages if config in m]
    assert len(mine) == 1 and '\n' not in mine[0], messages
    assert 'line 1' in mine[0] and 'not run' in mine[0], mine[0]


def test_scores_are_unchanged_by_the_checks(tmp_path, capsys):
    """The refused checkpoint changes only the protocol line: the scores
    and accuracies are those of the file."""
    ckpt = str(tmp_path / 'epoch_3.pth')
    torch.save(dict(extra=_Payload('true')), ckpt)
    out, _ = _report(_score_dump(tmp_path, checkpoint=ckpt), capsys)
    ids, scores, labels = hand_scores()
    top1 = 100 * np.mean(scores.argmax(1) == labels)
    assert f'top1 {top1:.2f}' in out
