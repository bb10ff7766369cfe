"""Tests of mmskelcl.evaluation.fusion (CPU, no model runs)."""
import pickle

import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.evaluator import DumpResults
from numpy.testing import assert_allclose, assert_array_equal

from mmskelcl.evaluation import (WEIGHT_PRESETS, StreamScores, align_streams,
                                 compute_accuracy, format_report,
                                 fuse_score_files, fuse_streams,
                                 load_score_file, resolve_weights,
                                 save_fusion, weighted_sum)

IDS = ['a', 'b', 'c']
LABELS = np.array([0, 1, 1])
# stream j: right on a, c (top-1 2/3); stream b: right on b only (1/3)
J = np.array([[0.8, 0.2], [0.6, 0.4], [0.2, 0.8]])
B = np.array([[0.1, 0.9], [0.2, 0.8], [0.6, 0.4]])


def _streams() -> list:
    return [
        StreamScores('j', IDS, J, LABELS),
        StreamScores('b', IDS, B, LABELS)
    ]


def test_weighted_sum_hand_computed():
    result = fuse_streams(_streams(), weights=[2, 1])
    # 2*J + B, computed by hand
    expected = np.array([[1.7, 1.3], [1.4, 1.6], [1.0, 2.0]])
    assert_allclose(result.fused, expected)
    assert_allclose(weighted_sum([J, B], [2, 1]), expected)
    assert result.weights == (2.0, 1.0)
    assert result.ids == IDS
    assert result.metrics['j']['top1'] == pytest.approx(2 / 3)
    assert result.metrics['b']['top1'] == pytest.approx(1 / 3)
    # fused: a -> 0, b -> 1, c -> 1: all right
    assert result.metrics['fused']['top1'] == pytest.approx(1.0)
    assert result.metrics['fused']['top5'] == pytest.approx(1.0)


def test_default_weights_are_equal():
    result = fuse_streams(_streams())
    assert result.weights == (1.0, 1.0)
    assert_allclose(result.fused, J + B)


def test_mean_class_accuracy_hand_computed():
    # class 0: 1 sample, right; class 1: 3 samples, 1 right
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.1, 0.9]])
    labels = np.array([0, 1, 1, 1])
    metrics = compute_accuracy(scores, labels)
    assert metrics['top1'] == pytest.approx(2 / 4)
    assert metrics['mean1'] == pytest.approx((1 / 1 + 1 / 3) / 2)
    assert set(metrics) == {'top1', 'top5', 'mean1'}


def test_streams_are_matched_by_id_not_order():
    perm = [2, 0, 1]
    shuffled = StreamScores('b', [IDS[i] for i in perm], B[perm],
                            LABELS[perm])
    aligned = fuse_streams(_streams(), weights=[2, 1])
    mixed = fuse_streams([_streams()[0], shuffled], weights=[2, 1])
    assert mixed.ids == IDS
    assert_allclose(mixed.fused, aligned.fused)
    assert_array_equal(mixed.labels, aligned.labels)
    assert mixed.metrics == aligned.metrics
    assert_allclose(mixed.streams[1].scores, B)


def test_fused_order_follows_first_stream():
    perm = [1, 2, 0]
    first = StreamScores('j', [IDS[i] for i in perm], J[perm], LABELS[perm])
    result = fuse_streams([first, _streams()[1]], weights=[1, 1])
    assert result.ids == ['b', 'c', 'a']
    assert_allclose(result.fused, (J + B)[perm])


def test_mismatched_ids_report_counts_per_stream():
    k = np.zeros((1, 2))
    streams = [
        StreamScores('j', ['a', 'b', 'c', 'd'], np.repeat(k, 4, 0),
                     np.zeros(4, int)),
        StreamScores('b', ['a', 'b', 'c', 'e'], np.repeat(k, 4, 0),
                     np.zeros(4, int)),
        StreamScores('jm', ['a', 'b'], np.repeat(k, 2, 0), np.zeros(2, int)),
    ]
    with pytest.raises(ValueError) as err:
        fuse_streams(streams)
    msg = str(err.value)
    assert '5 distinct ids' in msg
    assert "stream 'j': has 4 ids, 1 missing, e.g. ['e']" in msg
    assert "stream 'b': has 4 ids, 1 missing, e.g. ['d']" in msg
    assert "stream 'jm': has 2 ids, 3 missing, e.g. ['c', 'd', 'e']" in msg


def test_label_disagreement_is_an_error():
    bad = StreamScores('b', IDS, B, np.array([0, 0, 1]))
    with pytest.raises(ValueError, match=r"disagree on the label of 1 ids.*"
                       r"\('b', 1, 0\)"):
        align_streams([_streams()[0], bad])


def test_other_consistency_errors():
    with pytest.raises(ValueError, match='more than once'):
        StreamScores('j', ['a', 'a'], np.zeros((2, 2)), np.zeros(2, int))
    with pytest.raises(ValueError, match='different numbers of classes'):
        align_streams([
            StreamScores('j', IDS, J, LABELS),
            StreamScores('b', IDS, np.zeros((3, 4)), LABELS)
        ])
    with pytest.raises(ValueError, match='unique'):
        fuse_streams([_streams()[0], _streams()[0]])
    with pytest.raises(ValueError, match='integer'):
        StreamScores('j', IDS, J, LABELS.astype(float))


def test_presets():
    assert WEIGHT_PRESETS['ctrgcn'] == (0.6, 0.6, 0.4, 0.4)
    assert WEIGHT_PRESETS['pyskl'] == (2, 2, 1, 1)
    assert WEIGHT_PRESETS['frhead_ntu60_xsub'] == (2, 2, 1, 1)
    assert WEIGHT_PRESETS['frhead_ntu60_xview'] == (0.6, 0.6, 0.4, 0.4)
    assert WEIGHT_PRESETS['frhead_nwucla'] == (0.6, 0.6, 0.4, 0.4)
    assert WEIGHT_PRESETS['frhead_ntu120_xsub'] == (0.6, 0.75, 0.3, 0.15)
    assert WEIGHT_PRESETS['frhead_ntu120_xset'] == (0.6, 0.75, 0.3, 0.15)
    assert resolve_weights('ctrgcn', 4) == (0.6, 0.6, 0.4, 0.4)
    assert resolve_weights(['frhead_ntu120_xset'], 4) == (0.6, 0.75, 0.3,
                                                          0.15)


def test_resolve_weights_numbers_and_errors():
    assert resolve_weights(None, 3) == (1.0, 1.0, 1.0)
    assert resolve_weights(['2', '1.5'], 2) == (2.0, 1.5)
    assert resolve_weights([0.6, 1], 2) == (0.6, 1.0)
    with pytest.raises(ValueError, match='gives 2 weights .* 3 streams'):
        resolve_weights(['1', '1'], 3)
    with pytest.raises(ValueError, match="preset 'ctrgcn'.*2 streams"):
        resolve_weights('ctrgcn', 2)
    with pytest.raises(ValueError, match="unknown weight preset 'nope'"):
        resolve_weights('nope', 4)
    with pytest.raises(ValueError, match='not a number'):
        resolve_weights(['1', 'x'], 2)


def test_apply_softmax():
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    streams = [
        StreamScores('j', ['a', 'b'], logits, np.array([0, 1])),
        StreamScores('b', ['a', 'b'], -logits, np.array([0, 1]))
    ]
    result = fuse_streams(streams, [1, 1], apply_softmax=True)
    assert_allclose(result.fused.sum(axis=1), [2.0, 2.0])
    assert_allclose(result.fused, [[1.0, 1.0], [1.0, 1.0]])


def _dump_results(path, ids, scores, labels, with_frame_dir=True):
    """Write a pickle with mmengine's own DumpResults metric."""
    metric = DumpResults(out_file_path=str(path))
    samples = []
    for i, s, y in zip(ids, scores, labels):
        sample = ActionDataSample().set_gt_label(int(y))
        sample.set_pred_score(torch.tensor(s, dtype=torch.float32))
        if with_frame_dir:
            sample.set_metainfo(dict(frame_dir=i))
        samples.append(sample.to_dict())
    metric.process(None, samples)
    metric.evaluate(len(samples))


def test_load_mmaction_dump_results(tmp_path):
    path = tmp_path / 'joint.pkl'
    _dump_results(path, IDS, J, LABELS)
    (stream, ) = load_score_file(str(path))
    assert stream.name == 'joint'
    assert stream.ids == IDS
    assert_allclose(stream.scores, J, rtol=1e-6)
    assert_array_equal(stream.labels, LABELS)
    assert stream.meta['format'] == 'DumpResults'


def test_dump_results_without_frame_dir(tmp_path):
    path = tmp_path / 'joint.pkl'
    _dump_results(path, IDS, J, LABELS, with_frame_dir=False)
    with pytest.raises(KeyError) as err:
        load_score_file(str(path))
    msg = str(err.value)
    assert 'frame_dir' in msg and 'PackActionInputs' in msg
    assert 'meta_keys' in msg


def test_fuse_mixed_formats(tmp_path):
    perm = [2, 1, 0]
    _dump_results(tmp_path / 'b.pkl', [IDS[i] for i in perm], B[perm],
                  LABELS[perm])
    own = dict(ids=IDS, scores=J, labels=LABELS, stream='j',
               epoch=3)  # extra key -> metadata
    with open(tmp_path / 'j.pkl', 'wb') as f:
        pickle.dump(own, f)
    result = fuse_score_files([str(tmp_path / 'j.pkl'),
                               str(tmp_path / 'b.pkl')], ['2', '1'])
    assert result.stream_names == ['j', 'b']
    assert result.streams[0].meta['epoch'] == 3
    assert_allclose(result.fused, 2 * J + B, rtol=1e-6)


def test_fusion_dump_round_trip(tmp_path):
    result = fuse_streams(_streams(), weights=[2, 1])
    path = tmp_path / 'sub' / 'fused.pkl'
    save_fusion(result, str(path))
    with open(path, 'rb') as f:
        dump = pickle.load(f)
    assert dump['format'] == 'mmskelcl.fusion'
    assert dump['ids'] == IDS
    assert dump['streams'] == ['j', 'b']
    assert dump['weights'] == [2.0, 1.0]
    assert_allclose(dump['stream_scores']['j'], J)
    assert_allclose(dump['fused'], 2 * J + B)
    assert dump['metrics']['fused']['top1'] == pytest.approx(1.0)
    # a multi-stream dump can be re-fused with other weights and names
    refused = fuse_score_files([str(path)], [1, 1], stream_names=['x', 'y'])
    assert refused.stream_names == ['x', 'y']
    assert_allclose(refused.fused, J + B)


def test_report_table():
    table = format_report(fuse_streams(_streams(), weights=[2, 1]))
    lines = table.splitlines()
    assert '3 samples, 2 classes' in lines[0]
    assert lines[1].split(' | ')[0].strip() == 'stream'
    rows = {line.split('|')[0].strip(): line for line in lines[3:]}
    assert '66.67' in rows['j'] and '33.33' in rows['b']
    assert rows['fused'].split('|')[2].strip() == '100.00'
    single = format_report(fuse_streams(_streams()[:1]))
    assert 'fused' not in single and '66.67' in single


def test_mixed_score_kinds_warn():
    j, b = _streams()
    j.meta['average_clips'] = 'prob'
    b.meta['average_clips'] = 'score'
    with pytest.warns(UserWarning, match='average_clips'):
        fuse_streams([j, b])


def test_csre_presets_fuse_two_and_four_streams():
    """CSRE's nominal alphas (NTU / NW-UCLA), 4S and their J + B 2S."""
    assert resolve_weights('csre_ntu', 4) == (0.6, 0.7, 0.35, 0.2)
    assert resolve_weights('csre_nwucla', 4) == (0.7, 0.5, 0.6, 0.2)
    assert resolve_weights('csre_ntu_2s', 2) == (0.6, 0.7)
    assert resolve_weights('csre_nwucla_2s', 2) == (0.7, 0.5)
    with pytest.raises(ValueError, match="preset 'csre_ntu'.*2 streams"):
        resolve_weights('csre_ntu', 2)
    # 0.7 * J + 0.5 * B by hand: a (.56+.05, .14+.45) -> 0;
    # b (.42+.1, .28+.4) -> 1; c (.14+.3, .56+.2) -> 1: all right (with
    # equal weights a would be 0.9 vs 1.1 -> wrong)
    result = fuse_streams(_streams(), weights='csre_nwucla_2s')
    assert_allclose(result.fused, [[0.61, 0.59], [0.52, 0.68],
                                   [0.44, 0.76]])
    assert result.metrics['fused']['top1'] == pytest.approx(1.0)
    assert fuse_streams(_streams()).metrics['fused']['top1'] == \
        pytest.approx(2 / 3)
