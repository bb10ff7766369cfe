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

Accepted score files
    1. A single-stream dump of this project: a dict with ``ids`` (list of
       str, length N), ``scores`` (float array N x K), ``labels`` (int array
       N), ``stream`` (str) and optionally ``meta`` (dict) and further keys,
       which are kept as metadata.
    2. A multi-stream dump written by :func:`save_fusion` (``tools/test.py
       --dump``): a dict with ``format='mmskelcl.fusion'``, ``version``,
       ``ids``, ``labels``, ``streams`` (names), ``weights``,
       ``stream_scores`` (name -> N x K array), ``fused`` (N x K),
       ``metrics``, ``apply_softmax`` and ``meta`` (name -> dict). Loading it
       yields its per-stream entries, so the streams can be re-fused.
    3. An MMAction2 / mmengine ``DumpResults`` pickle (``--dump`` of
       MMAction2's ``tools/test.py``): a list of data-sample dicts with
       ``pred_score`` and ``gt_label``. The id is the sample's ``frame_dir``
       metainfo, which is only present when the test pipeline's
       ``PackActionInputs`` lists ``'frame_dir'`` in its ``meta_keys``.
"""
import os
import os.path as osp
import pickle
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.evaluation.functional import (mean_class_accuracy,
                                            top_k_accuracy)

#: Named weight sets; stream order is (joint, bone, joint-motion,
#: bone-motion). ``ctrgcn`` is CTR-GCN's ``ensemble.py``; ``pyskl`` is the
#: 2:2:1:1 of the PySKL / MMAction2 model zoos; ``frhead_*`` are the
#: per-benchmark sets of FR-Head's ``ensemble.py``. All are fixed a priori:
#: never choose weights by searching on the test set.
WEIGHT_PRESETS: Dict[str, Tuple[float, ...]] = {
    'ctrgcn': (0.6, 0.6, 0.4, 0.4),
    'pyskl': (2.0, 2.0, 1.0, 1.0),
    'frhead_ntu60_xsub': (2.0, 2.0, 1.0, 1.0),
    'frhead_ntu60_xview': (0.6, 0.6, 0.4, 0.4),
    'frhead_nwucla': (0.6, 0.6, 0.4, 0.4),
    'frhead_ntu120_xsub': (0.6, 0.75, 0.3, 0.15),
    'frhead_ntu120_xset': (0.6, 0.75, 0.3, 0.15),
}

#: Order of the streams the presets refer to.
PRESET_STREAM_ORDER: Tuple[str, ...] = ('j', 'b', 'jm', 'bm')

FUSION_FORMAT = 'mmskelcl.fusion'
FUSION_FORMAT_VERSION = 1

_FRAME_DIR_HINT = (
    "add 'frame_dir' to the meta_keys of PackActionInputs in the test "
    "pipeline, e.g. dict(type='PackActionInputs', "
    "meta_keys=('frame_dir', )), and dump the scores again "
    '(mmskelcl\'s tools/test.py does this automatically)')

_NUM_EXAMPLES = 3


@dataclass
class StreamScores:
    """Per-sample class scores of one stream.

    Args:
        name (str): Stream name, e.g. ``'j'``.
        ids (list[str]): Sample ids (``frame_dir``), length N, unique.
        scores (np.ndarray): Float class scores, shape (N, K).
        labels (np.ndarray): Integer ground-truth labels, shape (N, ).
        meta (dict): Free-form metadata (config, checkpoint, source file,
            ...). Defaults to an empty dict.
    """

    name: str
    ids: List[str]
    scores: np.ndarray
    labels: np.ndarray
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        self.scores = np.asarray(self.scores)
        self.labels = np.asarray(self.labels)
        where = f'stream {self.name!r}'
        if self.scores.ndim != 2:
            raise ValueError(f'{where}: scores must have shape (N, K), got '
                             f'{self.scores.shape}')
        if not np.issubdtype(self.scores.dtype, np.floating):
            self.scores = self.scores.astype(np.float64)
        if self.labels.ndim != 1 or not np.issubdtype(
                self.labels.dtype, np.integer):
            raise ValueError(f'{where}: labels must be a 1-D integer array '
                             f'(single-label), got dtype {self.labels.dtype} '
                             f'and shape {self.labels.shape}')
        self.labels = self.labels.astype(np.int64)
        n = len(self.ids)
        if self.scores.shape[0] != n or self.labels.shape[0] != n:
            raise ValueError(
                f'{where}: {n} ids but {self.scores.shape[0]} score rows and '
                f'{self.labels.shape[0]} labels')
        counts: Dict[str, int] = {}
        for i in self.ids:
            counts[i] = counts.get(i, 0) + 1
        dups = [i for i, c in counts.items() if c > 1]
        if dups:
            raise ValueError(
                f'{where}: {len(dups)} ids occur more than once (ids must be '
                f'unique to align streams), e.g. {dups[:_NUM_EXAMPLES]}')

    @property
    def num_classes(self) -> int:
        """int: Number of classes K."""
        return int(self.scores.shape[1])

    def to_dict(self) -> Dict[str, Any]:
        """Serialise to the single-stream dump format."""
        return dict(
            ids=list(self.ids),
            scores=self.scores,
            labels=self.labels,
            stream=self.name,
            meta=dict(self.meta))

    def take(self, ids: Sequence[str]) -> 'StreamScores':
        """Return the rows of ``ids``, in that order.

        Args:
            ids (Sequence[str]): Ids, all present in this stream.

        Returns:
            StreamScores: The reordered stream.
        """
        index = {i: k for k, i in enumerate(self.ids)}
        rows = np.array([index[i] for i in ids], dtype=np.int64)
        return StreamScores(self.name, list(ids), self.scores[rows],
                            self.labels[rows], dict(self.meta))


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
def resolve_weights(weights: Optional[Union[str, Sequence[Union[str, float]]]],
                    num_streams: int) -> Tuple[float, ...]:
    """Turn a preset name or a list of numbers into one weight per stream.

    Args:
        weights (str | Sequence[str | float] | None): ``None`` for equal
            weights (1.0 each), a preset name of :data:`WEIGHT_PRESETS`
            (alone or as the single item of a sequence) or numbers (floats
            or numeric strings, as given on the command line).
        num_streams (int): Number of streams to fuse.

    Returns:
        tuple[float]: ``num_streams`` weights.

    Raises:
        ValueError: Unknown preset, non-numeric weight, or a number of
            weights different from ``num_streams``.
    """
    if num_streams < 1:
        raise ValueError('at least one stream is needed')
    if weights is None:
        return (1.0, ) * num_streams
    if isinstance(weights, str):
        weights = [weights]
    weights = list(weights)
    source = 'weights'
    if len(weights) == 1 and isinstance(weights[0], str) and \
            not _is_number(weights[0]):
        name = weights[0]
        if name not in WEIGHT_PRESETS:
            raise ValueError(
                f'unknown weight preset {name!r}; known presets: '
                + ', '.join(f'{k}={list(v)}'
                            for k, v in WEIGHT_PRESETS.items())
                + ' (or give one number per stream)')
        weights = list(WEIGHT_PRESETS[name])
        source = f'preset {name!r} (stream order ' \
            f'{"/".join(PRESET_STREAM_ORDER)})'
    values = []
    for w in weights:
        if not _is_number(w):
            raise ValueError(f'weight {w!r} is not a number')
        values.append(float(w))
    if len(values) != num_streams:
        raise ValueError(
            f'{source} gives {len(values)} weights {values} but there are '
            f'{num_streams} streams; give exactly one weight per stream')
    return tuple(values)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a number or a string holding one."""
    if isinstance(value, (int, float, np.number)) and \
            not isinstance(value, bool):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------
def load_score_file(path: str,
                    name: Optional[str] = None) -> List[StreamScores]:
    """Load the streams held by one score file.

    Args:
        path (str): A pickle in one of the formats of this module's
            docstring.
        name (str, optional): Stream name for a single-stream file; by
            default the file's ``stream`` field, else the file stem. Ignored
            (with an error if given) for multi-stream dumps.

    Returns:
        list[StreamScores]: One entry, or several for a multi-stream dump.
    """
    with open(path, 'rb') as f:
        obj = pickle.load(f)
    return parse_scores(obj, name=name, source=path)


def parse_scores(obj: Any,
                 name: Optional[str] = None,
                 source: Optional[str] = None) -> List[StreamScores]:
    """Parse a loaded score object (see :func:`load_score_file`).

    Args:
        obj (Any): The unpickled object.
        name (str, optional): Stream name override for single streams.
        source (str, optional): File path, used for the default name and
            in error messages.

    Returns:
        list[StreamScores]: The streams the object holds.
    """
    where = f'{source!r}' if source else 'score object'
    default_name = name or (osp.splitext(osp.basename(source))[0]
                            if source else 'stream')
    if isinstance(obj, Mapping):
        if obj.get('format') == FUSION_FORMAT or 'stream_scores' in obj:
            if name is not None:
                raise ValueError(f'{where} is a multi-stream dump; its '
                                 'stream names come from the file')
            return _parse_fusion_dump(obj, source)
        missing = [k for k in ('ids', 'scores', 'labels') if k not in obj]
        if missing:
            raise ValueError(f'{where}: a score dict needs the keys ids, '
                             f'scores and labels; missing {missing}')
        meta = dict(obj.get('meta') or {})
        meta.update({
            k: v
            for k, v in obj.items()
            if k not in ('ids', 'scores', 'labels', 'stream', 'meta')
        })
        if source:
            meta.setdefault('source', source)
        return [
            StreamScores(name or obj.get('stream') or default_name,
                         list(obj['ids']), obj['scores'], obj['labels'], meta)
        ]
    if isinstance(obj, (list, tuple)):
        return [dump_results_to_scores(obj, default_name, source)]
    raise TypeError(f'{where}: expected a score dict or a DumpResults list '
                    f'of data samples, got {type(obj).__name__}')


def _parse_fusion_dump(obj: Mapping, source: Optional[str]) -> List[
        StreamScores]:
    """Split a multi-stream dump into its streams."""
    meta = obj.get('meta') or {}
    streams = []
    for stream_name in obj['streams']:
        stream_meta = dict(meta.get(stream_name) or {})
        if source:
            stream_meta.setdefault('source', source)
        streams.append(
            StreamScores(stream_name, list(obj['ids']),
                         obj['stream_scores'][stream_name], obj['labels'],
                         stream_meta))
    return streams


def dump_results_to_scores(samples: Sequence[Any],
                           name: str,
                           source: Optional[str] = None) -> StreamScores:
    """Convert an mmengine ``DumpResults`` list into :class:`StreamScores`.

    Args:
        samples (Sequence): Data samples as dicts (``ActionDataSample``
            ``to_dict()``, metainfo keys at the top level or under
            ``metainfo``) or as data-sample objects.
        name (str): Stream name.
        source (str, optional): File path, for error messages.

    Returns:
        StreamScores: The stream, ids taken from ``frame_dir``.

    Raises:
        KeyError: A sample has no ``frame_dir`` (with the fix in the
            message), ``pred_score`` or ``gt_label``.
    """
    where = f'DumpResults file {source!r}' if source else 'DumpResults list'
    if len(samples) == 0:
        raise ValueError(f'{where} is empty')
    ids, scores, labels = [], [], []
    for k, sample in enumerate(samples):
        if hasattr(sample, 'to_dict') and not isinstance(sample, Mapping):
            sample = sample.to_dict()
        if not isinstance(sample, Mapping):
            raise TypeError(f'{where}: item {k} is a {type(sample).__name__}'
                            ', not a data-sample dict')
        metainfo = sample.get('metainfo') or {}
        frame_dir = sample.get('frame_dir', metainfo.get('frame_dir'))
        if frame_dir is None:
            raise KeyError(
                f'{where}: sample {k} has no frame_dir, so its scores cannot '
                f'be matched to other streams by id; {_FRAME_DIR_HINT}')
        for key in ('pred_score', 'gt_label'):
            if key not in sample:
                raise KeyError(f'{where}: sample {k} ({frame_dir}) has no '
                               f'{key!r}')
        pred = sample['pred_score']
        if isinstance(pred, Mapping):
            raise TypeError(f'{where}: sample {k} has a dict pred_score '
                            f'(keys {list(pred)}); only single-modality '
                            'scores can be fused')
        label = _to_numpy(sample['gt_label']).reshape(-1)
        if label.size != 1:
            raise ValueError(f'{where}: sample {k} has {label.size} labels; '
                             'only single-label results can be fused')
        ids.append(str(frame_dir))
        scores.append(_to_numpy(pred).reshape(-1))
        labels.append(int(label[0]))
    meta: Dict[str, Any] = dict(format='DumpResults')
    if source:
        meta['source'] = source
    return StreamScores(name, ids, np.stack(scores),
                        np.asarray(labels, dtype=np.int64), meta)


def _to_numpy(value: Any) -> np.ndarray:
    """Convert a tensor, array or number to a numpy array."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


# --------------------------------------------------------------------------
# alignment, fusion, metrics
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


# --------------------------------------------------------------------------
# report and dump
# --------------------------------------------------------------------------
def format_report(result: FusionResult, digits: int = 2) -> str:
    """One text table: a row per stream and, for several streams, ``fused``.

    Args:
        result (FusionResult): The fusion to report.
        digits (int): Decimals of the percentages.

    Returns:
        str: The table (accuracies in percent).
    """
    header = ['stream', 'weight', 'top1', 'top5', 'mean1']
    rows = [[s.name, f'{w:g}'] + _pct_cells(result.metrics[s.name], digits)
            for s, w in zip(result.streams, result.weights)]
    fused_row = ['fused', '-'] + _pct_cells(result.metrics['fused'], digits)
    widths = [
        max(len(r[c]) for r in [header, fused_row] + rows)
        for c in range(len(header))
    ]

    def fmt(cells: List[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(w) for cell, w in zip(cells[1:], widths[1:])]
        return ' | '.join([first] + rest)

    rule = '-+-'.join('-' * w for w in widths)
    notes = [f'{len(result.ids)} samples',
             f'{result.streams[0].num_classes} classes', 'accuracy in %']
    if result.apply_softmax:
        notes.append('softmax per stream before fusing')
    lines = [f'Stream fusion ({", ".join(notes)})', fmt(header), rule]
    lines += [fmt(r) for r in rows]
    if len(rows) > 1:
        lines += [rule, fmt(fused_row)]
    return '\n'.join(lines)


def _pct_cells(metrics: Mapping[str, float], digits: int) -> List[str]:
    """Format top1/top5/mean1 as percentages."""
    return [f'{100 * metrics[k]:.{digits}f}' for k in ('top1', 'top5',
                                                        'mean1')]


def fusion_to_dict(result: FusionResult) -> Dict[str, Any]:
    """Serialise a fusion to the multi-stream dump format (see module doc).

    Args:
        result (FusionResult): The fusion.

    Returns:
        dict: The picklable dump.
    """
    return dict(
        format=FUSION_FORMAT,
        version=FUSION_FORMAT_VERSION,
        ids=list(result.ids),
        labels=result.labels,
        streams=result.stream_names,
        weights=list(result.weights),
        stream_scores={s.name: s.scores
                       for s in result.streams},
        fused=result.fused,
        metrics=result.metrics,
        apply_softmax=result.apply_softmax,
        meta={s.name: dict(s.meta)
              for s in result.streams})


def save_fusion(result: FusionResult, path: str) -> None:
    """Pickle :func:`fusion_to_dict` of ``result`` to ``path``.

    Args:
        result (FusionResult): The fusion.
        path (str): Output ``.pkl`` file; parent folders are created.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(fusion_to_dict(result), f)


def fuse_score_files(
        paths: Sequence[str],
        weights: Optional[Union[str, Sequence[Union[str, float]]]] = None,
        stream_names: Optional[Sequence[str]] = None,
        apply_softmax: bool = False) -> FusionResult:
    """Load score files, fuse all the streams they hold.

    Args:
        paths (Sequence[str]): Score files (any format of the module doc);
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
