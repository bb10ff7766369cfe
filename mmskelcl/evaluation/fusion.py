"""Multi-stream score fusion (joint / bone / joint-motion / bone-motion).

Skeleton recognisers are usually trained once per input stream and the
per-sample class scores of the streams are combined by a weighted sum at
test time. This module loads per-stream score dumps, aligns them **by sample
id** (never by order), fuses them and reports top-1, top-5 and mean-class
accuracy with MMAction2's own metric functions, so the numbers match
``AccMetric``'s ``acc/top1``, ``acc/top5`` and ``acc/mean1``.

What is summed
    The fused score is ``sum_i w_i * s_i`` over the streams' stored scores.
    With MMAction2's ``GCNHead`` (``average_clips='prob'``, the default) the
    stored ``pred_score`` is the softmax probability averaged over clips, so
    the fusion is a weighted sum of **probabilities**, as in PySKL and
    MMAction2's ``report_accuracy.py``. CTR-GCN and FR-Head sum raw
    **logits** instead; a head with ``average_clips='score'`` (or ``None``)
    stores logits and gives that behaviour. ``apply_softmax=True`` turns each
    stream's scores into probabilities first (use it only on logits). The
    stream order of every weight preset is joint, bone, joint-motion,
    bone-motion.

Score files and their formats are handled by :mod:`mmskelcl.evaluation.scores`
and the text report and multi-stream dump by
:mod:`mmskelcl.evaluation.fusion_io`; their public names are re-exported here.
"""
import warnings
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.evaluation.functional import (mean_class_accuracy,
                                            top_k_accuracy)

from .fusion_io import format_report, fusion_to_dict, save_fusion
from .weights import PRESET_STREAM_ORDER, WEIGHT_PRESETS, resolve_weights
from .scores import (_NUM_EXAMPLES, FUSION_FORMAT, FUSION_FORMAT_VERSION,
                     StreamScores, dump_results_to_scores, load_score_file,
                     parse_scores)

__all__ = [
    'FUSION_FORMAT', 'FUSION_FORMAT_VERSION', 'PRESET_STREAM_ORDER',
    'WEIGHT_PRESETS', 'FusionResult', 'StreamScores', 'align_streams',
    'compute_accuracy', 'dump_results_to_scores', 'format_report',
    'fuse_score_files', 'fuse_streams', 'fusion_to_dict', 'load_score_file',
    'parse_scores', 'resolve_weights', 'save_fusion', 'softmax', 'weighted_sum'
]

@dataclass
class FusionResult:
    """Aligned streams, their fusion and the accuracies.

    Args:
        ids (list[str]): Sample ids, in the order of the first stream.
        labels (np.ndarray): Ground-truth labels, shape (N, ).
        streams (list[StreamScores]): The streams aligned to ``ids``.
        weights (tuple[float]): One weight per stream.
        fused (np.ndarray): Weighted sum of the (optionally softmaxed)
            stream scores, shape (N, K).
        metrics (dict): ``{row name: {'top1', 'top5', 'mean1'}}`` for each
            stream and for ``'fused'``, as fractions in [0, 1].
        apply_softmax (bool): Whether softmax was applied to each stream
            before fusing.
    """

    ids: List[str]
    labels: np.ndarray
    streams: List[StreamScores]
    weights: Tuple[float, ...]
    fused: np.ndarray
    metrics: Dict[str, Dict[str, float]]
    apply_softmax: bool = False

    @property
    def stream_names(self) -> List[str]:
        """list[str]: Names of the streams, in fusion order."""
        return [s.name for s in self.streams]


# --------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------
def align_streams(streams: Sequence[StreamScores]) -> List[StreamScores]:
    """Reorder every stream to the first stream's id order.

    Args:
        streams (Sequence[StreamScores]): Streams to align.

    Returns:
        list[StreamScores]: Aligned streams (same ids in the same order).

    Raises:
        ValueError: The id sets differ (the message gives, per stream, how
            many ids it lacks relative to the other streams, with examples),
            the class counts differ, or streams disagree on the label of an
            id.
    """
    if not streams:
        raise ValueError('no streams to align')
    names = [s.name for s in streams]
    id_sets = [set(s.ids) for s in streams]
    union = set().union(*id_sets)
    if any(ids != union for ids in id_sets):
        lines = []
        for stream, ids in zip(streams, id_sets):
            missing = sorted(union - ids)
            line = (f'  stream {stream.name!r}: has {len(ids)} ids, '
                    f'{len(missing)} missing')
            if missing:
                line += f', e.g. {missing[:_NUM_EXAMPLES]}'
            lines.append(line)
        raise ValueError(
            'the streams do not hold the same samples (ids = frame_dir); '
            f'{len(union)} distinct ids in total. Ids missing from each '
            'stream relative to the others:\n' + '\n'.join(lines) +
            '\nWere all streams tested on the same annotation file and '
            'split?')
    classes = {s.name: s.num_classes for s in streams}
    if len(set(classes.values())) > 1:
        raise ValueError(f'the streams have different numbers of classes: '
                         f'{classes}')
    order = streams[0].ids
    aligned = [streams[0]] + [s.take(order) for s in streams[1:]]
    ref = aligned[0].labels
    for stream in aligned[1:]:
        bad = np.flatnonzero(stream.labels != ref)
        if bad.size:
            examples = [(order[i], int(ref[i]), int(stream.labels[i]))
                        for i in bad[:_NUM_EXAMPLES]]
            raise ValueError(
                f'streams {names[0]!r} and {stream.name!r} disagree on the '
                f'label of {bad.size} ids, e.g. (id, {names[0]}, '
                f'{stream.name}) = {examples}')
    return aligned


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of an (N, K) array."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def weighted_sum(score_list: Sequence[np.ndarray],
                 weights: Sequence[float]) -> np.ndarray:
    """``sum_i weights[i] * score_list[i]`` of aligned (N, K) arrays.

    Args:
        score_list (Sequence[np.ndarray]): Aligned score arrays.
        weights (Sequence[float]): One weight per array.

    Returns:
        np.ndarray: Float64 array of shape (N, K).
    """
    if len(score_list) != len(weights):
        raise ValueError(f'{len(score_list)} score arrays but '
                         f'{len(weights)} weights')
    fused = np.zeros(np.shape(score_list[0]), dtype=np.float64)
    for scores, weight in zip(score_list, weights):
        fused += float(weight) * np.asarray(scores, dtype=np.float64)
    return fused


def compute_accuracy(scores: np.ndarray,
                     labels: np.ndarray,
                     topk: Tuple[int, ...] = (1, 5)) -> Dict[str, float]:
    """Top-k and mean-class accuracy, as MMAction2's ``AccMetric``.

    Args:
        scores (np.ndarray): Class scores, shape (N, K).
        labels (np.ndarray): Labels, shape (N, ).
        topk (tuple[int]): The k of the top-k accuracies.

    Returns:
        dict: ``{'top1': ..., 'top5': ..., 'mean1': ...}`` as fractions.
    """
    label_list = [int(x) for x in labels]
    score_list = list(np.asarray(scores))
    accs = top_k_accuracy(score_list, label_list, topk)
    result = {f'top{k}': float(a) for k, a in zip(topk, accs)}
    result['mean1'] = float(mean_class_accuracy(score_list, label_list))
    return result


def fuse_streams(
        streams: Sequence[StreamScores],
        weights: Optional[Union[str, Sequence[Union[str, float]]]] = None,
        apply_softmax: bool = False) -> FusionResult:
    """Align streams by id, fuse them and compute the accuracies.

    Args:
        streams (Sequence[StreamScores]): One or more streams.
        weights (str | Sequence | None): See :func:`resolve_weights`;
            ``None`` means equal weights.
        apply_softmax (bool): Softmax each stream's scores before fusing
            (for logit dumps). The per-stream rows of the report use the
            scores as stored either way; softmax does not change them.

    Returns:
        FusionResult: Fused scores and the metrics of every row.
    """
    weights = resolve_weights(weights, len(streams))
    names = [s.name for s in streams]
    if len(set(names)) != len(names):
        raise ValueError(f'stream names must be unique, got {names}')
    aligned = align_streams(streams)
    averaging = {s.name: s.meta['average_clips']
                 for s in aligned if 'average_clips' in s.meta}
    if len(set(averaging.values())) > 1:
        warnings.warn('the streams store different kinds of scores '
                      f'(average_clips per stream: {averaging}); fusing '
                      'probabilities with logits is rarely meant')
    parts = [softmax(s.scores) if apply_softmax else s.scores
             for s in aligned]
    fused = weighted_sum(parts, weights)
    labels = aligned[0].labels
    metrics = {s.name: compute_accuracy(s.scores, labels) for s in aligned}
    metrics['fused'] = compute_accuracy(fused, labels)
    return FusionResult(
        ids=list(aligned[0].ids),
        labels=labels,
        streams=aligned,
        weights=weights,
        fused=fused,
        metrics=metrics,
        apply_softmax=apply_softmax)


def fuse_score_files(
        paths: Sequence[str],
        weights: Optional[Union[str, Sequence[Union[str, float]]]] = None,
        stream_names: Optional[Sequence[str]] = None,
        apply_softmax: bool = False) -> FusionResult:
    """Load score files, fuse all the streams they hold.

    Args:
        paths (Sequence[str]): Score files (any format of
            :mod:`mmskelcl.evaluation.scores`);
            a multi-stream dump contributes all of its streams.
        weights (str | Sequence | None): See :func:`resolve_weights`.
        stream_names (Sequence[str], optional): Names overriding those of
            the loaded streams, one per stream.
        apply_softmax (bool): Softmax each stream before fusing.

    Returns:
        FusionResult: The fusion.
    """
    streams: List[StreamScores] = []
    for path in paths:
        streams.extend(load_score_file(path))
    if stream_names is not None:
        if len(stream_names) != len(streams):
            raise ValueError(f'{len(stream_names)} stream names for '
                             f'{len(streams)} streams loaded from {paths}')
        for stream, new_name in zip(streams, stream_names):
            stream.name = str(new_name)
    else:
        _dedupe_names(streams)
    return fuse_streams(streams, weights, apply_softmax=apply_softmax)


def _dedupe_names(streams: Sequence[StreamScores]) -> None:
    """Make stream names unique in place by suffixing ``_2``, ``_3``..."""
    taken = set()
    for stream in streams:
        name, k = stream.name, 1
        while name in taken:
            k += 1
            name = f'{stream.name}_{k}'
        stream.name = name
        taken.add(name)
