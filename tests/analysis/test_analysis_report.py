"""Report maths on a hand-made score file, the FineGym hierarchy parser,
the evaluation-protocol note and the report tool (text, JSON, PNGs)."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
from mmengine.config import Config

from mmskelcl.analysis import (build_report, describe_protocol, format_report,
                               load_label_map, load_scores,
                               parse_gym_categories, val_is_test)
from mmskelcl.evaluation import StreamScores
from ._analysis_helpers import (GYM_LINES, NUM_CLASSES, PAIRS, check_png,
                                hand_scores, load_tool)


def _row(text, first):
    """Cells of the first table row of ``text`` starting with ``first``."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split('|')]
        if cells[0] == first:
            return cells
    raise AssertionError(f'no row {first!r} in\n{text}')


@pytest.fixture()
def score_files(tmp_path):
    """The hand-made scores as a single-stream dump, a multi-stream dump,
    a DumpResults list and a perfect model B (ids in another order)."""
    ids, scores, labels = hand_scores()
    files = dict(gym=str(tmp_path / 'gym99_categories.txt'))
    with open(files['gym'], 'w') as f:
        f.write('\n'.join(GYM_LINES))
    single = dict(ids=ids, scores=scores, labels=labels, stream='j')
    other = np.eye(NUM_CLASSES)[labels]  # stream b: always right
    multi = dict(format='mmskelcl.fusion', version=1, ids=ids,
                 labels=labels, streams=['j', 'b'], weights=[1.0, 1.0],
                 stream_scores=dict(j=scores, b=other), fused=scores,
                 metrics={}, apply_softmax=False, meta={})
    dump = [dict(pred_score=scores[i], gt_label=np.array([labels[i]]),
                 frame_dir=ids[i]) for i in range(len(ids))]
    order = np.arange(len(ids))[::-1]
    perfect = dict(ids=[ids[i] for i in order], scores=other[order],
                   labels=labels[order])
    for name, obj in dict(single=single, multi=multi, dump=dump,
                          perfect=perfect).items():
        files[name] = str(tmp_path / f'{name}.pkl')
        with open(files[name], 'wb') as f:
            pickle.dump(obj, f)
    return files


def test_parse_gym_categories(score_files):
    h = parse_gym_categories(score_files['gym'])
    assert h.num_classes == NUM_CLASSES
    assert h.class_names[3] == '(FX) switch leap with 1 turn'
    assert h.levels['event'] == ['VT', 'VT', 'FX', 'FX', 'FX', 'BB']
    assert h.levels['set'] == ['VT-1', 'VT-1', 'FX-21', 'FX-21', 'FX-22',
                               'BB-31']
    assert h.groups('set') == ['VT-1', 'FX-21', 'FX-22', 'BB-31']
    assert load_label_map(score_files['gym']) == h.class_names
    assert load_label_map(['jump', 'turn', '']) == ['jump', 'turn']
    with pytest.raises(ValueError, match='line 2'):
        parse_gym_categories([GYM_LINES[0], 'Clabel: 1; (VT) no set'])
    with pytest.raises(ValueError, match='missing \\[1\\]'):
        parse_gym_categories([GYM_LINES[0], GYM_LINES[2]])


def test_report_maths(score_files):
    report = build_report(load_scores(score_files['single']),
                          hierarchy=parse_gym_categories(score_files['gym']))
    assert report.name == 'j'
    assert report.metrics['top1'] == pytest.approx(8 / 14)
    assert report.metrics['top5'] == pytest.approx(13 / 14)
    mean1 = (2 / 4 + 1 / 2 + 2 / 3 + 1 / 2 + 1 / 2 + 1) / 6
    assert report.metrics['mean1'] == pytest.approx(mean1)
    np.testing.assert_allclose(report.class_acc,
                               [0.5, 0.5, 2 / 3, 0.5, 0.5, 1.0])
    assert report.class_counts.tolist() == [4, 2, 3, 2, 2, 1]
    expected = np.zeros((NUM_CLASSES, NUM_CLASSES), int)
    for t, p in PAIRS:
        expected[t, p] += 1
    np.testing.assert_array_equal(report.confusion, expected)
    pairs = [(p.a, p.b, p.a_as_b, p.b_as_a, p.total) for p in report.pairs]
    assert pairs == [(0, 1, 2, 1, 3), (2, 3, 1, 0, 1), (3, 4, 1, 0, 1),
                     (4, 5, 1, 0, 1)]
    # per event: K-way accuracy and share predicted inside the event
    events = {g.name: (g.num, g.correct, g.acc, g.coarse_acc)
              for g in report.groups['event']}
    assert events == {'VT': (6, 3, 0.5, 1.0),
                      'FX': (7, 4, pytest.approx(4 / 7), pytest.approx(6 / 7)),
                      'BB': (1, 1, 1.0, 1.0)}
    sets = {g.name: (g.num, g.correct, g.acc, g.coarse_acc)
            for g in report.groups['set']}
    assert sets == {'VT-1': (6, 3, 0.5, 1.0), 'FX-21': (5, 3, 0.6, 0.8),
                    'FX-22': (2, 1, 0.5, 0.5), 'BB-31': (1, 1, 1.0, 1.0)}
    text = format_report(report, protocol='epoch_3.pth: last checkpoint')
    assert 'top1 57.14 | top5 92.86 | mean-class 61.11' in text
    assert 'Evaluation protocol: epoch_3.pth: last checkpoint' in text
    assert _row(text, 'FX-21') == ['FX-21', '5', '3', '60.00', '80.00']


def test_score_formats_agree(score_files):
    single = load_scores(score_files['single'])
    fused = load_scores(score_files['multi'])
    assert fused.name == 'fused' and fused.meta['streams'] == ['j', 'b']
    stream_b = load_scores(score_files['multi'], stream='b')
    dump = load_scores(score_files['dump'])
    for other in (fused, dump):
        assert other.ids == single.ids
        np.testing.assert_allclose(other.scores, single.scores)
    assert build_report(stream_b).metrics['top1'] == 1.0
    with pytest.raises(KeyError, match='no stream'):
        load_scores(score_files['multi'], stream='jm')
    bad = StreamScores('x', ['a'], np.zeros((1, 3)), np.array([0]))
    with pytest.raises(ValueError, match='hierarchy'):
        build_report(bad, hierarchy=parse_gym_categories(GYM_LINES))


def test_protocol_note():
    def cfg(val_split, test_split, **extra):
        loader = lambda s: dict(dataset=dict(  # noqa: E731
            type='RepeatDataset', dataset=dict(ann_file='a.pkl', split=s)))
        return Config(dict(val_dataloader=loader(val_split),
                           test_dataloader=loader(test_split),
                           train_cfg=dict(max_epochs=65), **extra))

    same, held_out = cfg('val', 'val'), cfg('val', 'test')
    assert val_is_test(same) and not val_is_test(held_out)
    assert val_is_test(cfg('val', 'test', val_is_test=True))
    text = describe_protocol(same, 'w/best_acc_top1_epoch_40.pth')
    assert 'selected on the test split' in text and 'optimistic' in text
    assert 'no validation split apart from the test split' in text
    text = describe_protocol(held_out, 'w/best_acc_top1_epoch_40.pth')
    assert "validation split 'val', tested on 'test'" in text
    assert 'last checkpoint (epoch 65 of 65)' in describe_protocol(
        same, 'epoch_65.pth')
    assert 'not the last' in describe_protocol(held_out, 'epoch_30.pth')


def test_report_tool(score_files, tmp_path, capsys):
    tool = load_tool('analysis', 'report.py')
    out_dir = str(tmp_path / 'out')
    tool.main([score_files['single'], '--compare', score_files['perfect'],
               '--names', 'baseline', 'method', '--hierarchy',
               score_files['gym'], '--out-dir', out_dir])
    text = capsys.readouterr().out
    assert 'Score report: baseline (14 samples, 6 classes' in text
    assert 'Comparison: A = baseline, B = method' in text
    assert _row(text, 'top1') == ['top1', '57.14', '100.00', '+42.86']
    # per-class differences, largest gain first: classes 0, 1, 3, 4 gain
    # 50 points, class 2 33.33, class 5 none
    table = text[text.index('Per-class accuracy, largest gain first'):]
    labels = [ln.split('|')[0].strip() for ln in table.splitlines()[3:9]]
    assert labels == ['0', '1', '3', '4', '2', '5']
    assert _row(table, '2') == ['2', '(FX) switch leap with 0.5 turn', '3',
                                '66.67', '100.00', '+33.33']
    assert _row(table[table.index('Accuracy per event'):], 'FX') == [
        'FX', '7', '57.14', '100.00', '+42.86']
    assert 'unknown (the score file does not say' in text
    for name in ('confusion.png', 'confusion_B.png', 'class_diff.png',
                 'event.png', 'set.png'):
        check_png(osp.join(out_dir, name))
    with open(osp.join(out_dir, 'report.json')) as f:
        saved = json.load(f)
    assert [r['name'] for r in saved] == ['baseline', 'method']
    assert saved[0]['confused_pairs'][0] == dict(a=0, b=1, a_as_b=2,
                                                 b_as_a=1, total=3)
    assert saved[0]['groups']['set'][1]['acc'] == pytest.approx(0.6)
