"""Accuracy by difficulty level (CSRE Table 7), by hand.

Five classes; A (baseline) and B (method) right on these counts:

    class  samples  A          B
      0      10     10 (100)    9 (90)
      1      10      9 (90)    10 (100)
      2      10      8 (80)     9 (90)
      3      10      7 (70)     8 (80)
      4       4      1 (25)     2 (50)

A's levels: Easy {0}, Medium {1, 2} (90 and 80 are Medium), Hard {3, 4}.
B's own: Easy {1}, Medium {0, 2, 3}, Hard {4}.
"""
import json
import os.path as osp
import pickle

import numpy as np
import pytest

from mmskelcl.analysis import build_report
from mmskelcl.analysis.difficulty import (difficulty_levels,
                                          difficulty_table, level_accuracy)
from mmskelcl.evaluation import StreamScores
from ._analysis_helpers import load_tool

COUNTS = [10, 10, 10, 10, 4]
RIGHT = dict(A=[10, 9, 8, 7, 1], B=[9, 10, 9, 8, 2])


def _scores(name):
    labels, preds = [], []
    for k, (n, right) in enumerate(zip(COUNTS, RIGHT[name])):
        labels += [k] * n
        preds += [k] * right + [(k + 1) % 5] * (n - right)
    scores = np.eye(5)[preds]
    ids = [f's{i:02d}' for i in range(len(labels))]
    return StreamScores(name, ids, scores, np.asarray(labels))


def _levels(rows):
    return {name: {lv.level: (lv.classes, lv.class_mean, lv.sample_acc)
                   for lv in levels} for name, levels in rows}


def test_levels_and_bounds():
    assert difficulty_levels([1.0, 0.9, 0.8, 0.7999, 0.9001, np.nan]) == [
        'Easy', 'Medium', 'Medium', 'Hard', 'Easy', None]
    with pytest.raises(ValueError, match='fractions'):
        difficulty_levels([0.5], bounds=(80, 90))


def test_table_on_the_first_models_levels():
    a, b = build_report(_scores('A')), build_report(_scores('B'))
    got = _levels(difficulty_table([a, b]))
    assert got['A']['Easy'][:2] == ([0], 1.0)
    assert got['A']['Medium'][0] == [1, 2]
    assert got['A']['Medium'][1] == pytest.approx(0.85)
    assert got['A']['Hard'][0] == [3, 4]
    # class mean (0.7 + 0.25) / 2, sample accuracy 8 / 14
    assert got['A']['Hard'][1] == pytest.approx(0.475)
    assert got['A']['Hard'][2] == pytest.approx(8 / 14)
    # B graded on A's classes
    assert got['B']['Easy'][:2] == ([0], 0.9)
    assert got['B']['Medium'][1] == pytest.approx(0.95)
    assert got['B']['Hard'][0] == [3, 4]
    assert got['B']['Hard'][1] == pytest.approx(0.65)
    assert got['B']['Hard'][2] == pytest.approx(10 / 14)


def test_table_on_each_models_own_levels():
    a, b = build_report(_scores('A')), build_report(_scores('B'))
    got = _levels(difficulty_table([a, b], 'own'))
    assert got['B']['Easy'][:2] == ([1], 1.0)
    assert got['B']['Medium'][0] == [0, 2, 3]
    assert got['B']['Medium'][1] == pytest.approx((0.9 + 0.9 + 0.8) / 3)
    assert got['B']['Hard'][:2] == ([4], 0.5)
    # an empty level is nan, not 0
    a_only = level_accuracy(a, ['Easy'] * 5)
    assert np.isnan(a_only[0].class_mean) and a_only[0].num == 0


def test_report_tool_prints_and_saves_table_7(tmp_path, capsys):
    paths = []
    for name in ('A', 'B'):
        s = _scores(name)
        path = str(tmp_path / f'{name}.pkl')
        with open(path, 'wb') as f:
            pickle.dump(dict(ids=s.ids, scores=s.scores, labels=s.labels,
                             stream='j'), f)
        paths.append(path)
    out = str(tmp_path / 'out')
    load_tool('analysis', 'report.py').main(
        [paths[0], '--compare', paths[1], '--names', 'ctrgcn', 'csre',
         '--difficulty', '--out-dir', out])
    text = capsys.readouterr().out
    table = text[text.index('Accuracy by difficulty level'):]
    assert "levels from the first model's" in table
    rows = {ln.split('|')[0].strip(): [c.strip() for c in ln.split('|')[1:]]
            for ln in table.splitlines()[3:5]}
    assert rows['ctrgcn'] == ['47.50 (57.14) [2]', '85.00 (85.00) [2]',
                              '100.00 (100.00) [1]']
    assert rows['csre'] == ['65.00 (71.43) [2]', '95.00 (95.00) [2]',
                            '90.00 (90.00) [1]']
    with open(osp.join(out, 'difficulty.json')) as f:
        saved = json.load(f)
    assert saved['graded_by'] == 'first'
    assert saved['models'][1]['levels'][0] == dict(
        level='Hard', classes=[3, 4], class_mean=pytest.approx(0.65),
        samples=14, correct=10, sample_acc=pytest.approx(10 / 14))
