"""Per-class, confusion and per-group analysis of dumped class scores.

Works on any score file :func:`mmskelcl.evaluation.load_score_file` reads
(``tools/test.py --dump`` multi-stream dumps, single-stream dicts,
MMAction2 ``DumpResults`` lists). A multi-stream dump is analysed on its
``fused`` scores unless a stream is named.

Group accuracy (FineGym's event and set, CACL Figs. 4 and 5) follows the
restricted reading: ``acc`` is the K-way top-1 accuracy over the samples
whose true class is in the group; ``coarse_acc`` is the share of those
samples whose predicted class is in the same group (a group-level accuracy
without retraining on group labels).
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from mmskelcl.utils.safe_pickle import safe_load
from mmskelcl.evaluation.fusion import (FUSION_FORMAT, StreamScores,
                                        align_streams, compute_accuracy,
                                        parse_scores)
from .hierarchy import ClassHierarchy, check_num_classes


@dataclass
class ConfusedPair:
    """Two classes and how often each is predicted as the other."""

    a: int
    b: int
    a_as_b: int
    b_as_a: int

    @property
    def total(self) -> int:
        """int: Errors between the two classes, both directions."""
        return self.a_as_b + self.b_as_a


@dataclass
class GroupAccuracy:
    """Accuracy over the samples whose true class is in one group."""

    name: str
    num: int
    correct: int
    coarse_correct: int

    @property
    def acc(self) -> float:
        """float: K-way top-1 accuracy in the group (nan if empty)."""
        return self.correct / self.num if self.num else float('nan')

    @property
    def coarse_acc(self) -> float:
        """float: Share predicted inside the true group (nan if empty)."""
        return self.coarse_correct / self.num if self.num else float('nan')


@dataclass
class ScoreReport:
    """Everything :mod:`tools/analysis/report.py` prints and draws.

    Args:
        name (str): What was analysed (stream name or ``fused``).
        ids (list[str]): Sample ids.
        labels (np.ndarray): True labels (N, ).
        preds (np.ndarray): Top-1 predictions (N, ).
        metrics (dict): ``top1``, ``top5``, ``mean1`` as fractions.
        confusion (np.ndarray): ``(K, K)`` counts, rows true, cols predicted.
        class_names (list[str]): One name per class.
        pairs (list[ConfusedPair]): Most confused pairs, most errors first.
        groups (dict[str, list[GroupAccuracy]]): Per hierarchy level.
        meta (dict): Metadata of the scores (config, checkpoint, ...).
    """

    name: str
    ids: List[str]
    labels: np.ndarray
    preds: np.ndarray
    metrics: Dict[str, float]
    confusion: np.ndarray
    class_names: List[str]
    pairs: List[ConfusedPair]
    groups: Dict[str, List[GroupAccuracy]] = field(default_factory=dict)
    meta: Dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        """int: Number of classes K."""
        return int(self.confusion.shape[0])

    @property
    def class_counts(self) -> np.ndarray:
        """np.ndarray: Samples per true class (K, )."""
        return self.confusion.sum(axis=1)

    @property
    def class_acc(self) -> np.ndarray:
        """np.ndarray: Top-1 accuracy per class, nan for absent classes."""
        counts = self.class_counts
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(counts > 0,
                            np.diag(self.confusion) / np.maximum(counts, 1),
                            np.nan)


def load_scores(path: str, stream: Optional[str] = None) -> StreamScores:
    """Load the scores to analyse from a score file.

    Args:
        path (str): Any score file of :mod:`mmskelcl.evaluation.scores`.
        stream (str, optional): For a multi-stream dump, the stream to
            analyse; default its ``fused`` scores. ``'fused'`` also works.

    Returns:
        StreamScores: Named after the stream (``fused`` for the fusion).
    """
    obj = safe_load(path)
    multi = isinstance(obj, Mapping) and (obj.get('format') == FUSION_FORMAT
                                          or 'stream_scores' in obj)
    if multi and stream in (None, 'fused'):
        streams = parse_scores(obj, source=path)
        meta = dict(streams=[s.name for s in streams],
                    weights=list(obj.get('weights') or []),
                    stream_meta={s.name: s.meta for s in streams},
                    source=path)
        return StreamScores('fused', list(obj['ids']), obj['fused'],
                            obj['labels'], meta)
    streams = parse_scores(obj, source=path)
    if stream is None:
        return streams[0]
    for s in streams:
        if s.name == stream:
            return s
    held = [s.name for s in streams] + (['fused'] if multi else [])
    raise KeyError(f'{path!r} has no stream {stream!r}; it holds {held}')


def confusion_matrix(labels: np.ndarray, preds: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """``(K, K)`` int64 counts, row = true label, column = prediction."""
    conf = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(conf, (np.asarray(labels), np.asarray(preds)), 1)
    return conf


def confused_pairs(conf: np.ndarray, top: int = 10) -> List[ConfusedPair]:
    """The class pairs with the most errors between them (both ways).

    Ties are broken by the smaller class index; pairs without errors are
    left out.

    Args:
        conf (np.ndarray): Confusion matrix (rows true).
        top (int): How many pairs to return.

    Returns:
        list[ConfusedPair]: ``a < b``, most errors first.
    """
    k = conf.shape[0]
    pairs = [
        ConfusedPair(a, b, int(conf[a, b]), int(conf[b, a]))
        for a in range(k) for b in range(a + 1, k)
        if conf[a, b] + conf[b, a] > 0
    ]
    pairs.sort(key=lambda p: (-p.total, p.a, p.b))
    return pairs[:top]


def group_accuracy(labels: np.ndarray, preds: np.ndarray,
                   class_groups: Sequence[str]) -> List[GroupAccuracy]:
    """Accuracy per group of classes (see the module docstring).

    Args:
        labels (np.ndarray): True labels (N, ).
        preds (np.ndarray): Predicted labels (N, ).
        class_groups (Sequence[str]): The group of each class.

    Returns:
        list[GroupAccuracy]: One entry per group, in order of first
        appearance in ``class_groups`` (groups without samples included).
    """
    groups = np.asarray(list(class_groups), dtype=object)
    true_g, pred_g = groups[labels], groups[preds]
    out = []
    for name in dict.fromkeys(class_groups):
        mask = true_g == name
        out.append(
            GroupAccuracy(
                name=str(name),
                num=int(mask.sum()),
                correct=int((preds[mask] == labels[mask]).sum()),
                coarse_correct=int((pred_g[mask] == name).sum())))
    return out


def build_report(scores: StreamScores,
                 class_names: Optional[Sequence[str]] = None,
                 hierarchy: Optional[ClassHierarchy] = None,
                 top_pairs: int = 10) -> ScoreReport:
    """Analyse one set of scores.

    Args:
        scores (StreamScores): Scores, labels and ids.
        class_names (Sequence[str], optional): Names; default the
            hierarchy's, else ``class_<i>``.
        hierarchy (ClassHierarchy, optional): Groups for per-group accuracy.
        top_pairs (int): How many confused pairs to keep.

    Returns:
        ScoreReport: The analysis.
    """
    k = scores.num_classes
    if hierarchy is not None:
        check_num_classes(hierarchy.class_names, k, 'hierarchy')
    if class_names is None and hierarchy is not None:
        class_names = hierarchy.class_names
    check_num_classes(class_names, k)
    names = list(class_names) if class_names else [
        f'class_{i}' for i in range(k)]
    if scores.labels.size and (scores.labels.min() < 0
                               or scores.labels.max() >= k):
        raise ValueError(f'labels must lie in [0, {k}) for {k}-class scores')
    preds = scores.scores.argmax(axis=1)
    conf = confusion_matrix(scores.labels, preds, k)
    groups = {}
    if hierarchy is not None:
        groups = {level: group_accuracy(scores.labels, preds, per_class)
                  for level, per_class in hierarchy.levels.items()}
    return ScoreReport(
        name=scores.name,
        ids=list(scores.ids),
        labels=scores.labels,
        preds=preds,
        metrics=compute_accuracy(scores.scores, scores.labels),
        confusion=conf,
        class_names=names,
        pairs=confused_pairs(conf, top_pairs),
        groups=groups,
        meta=dict(scores.meta))


def align_for_comparison(a: StreamScores,
                         b: StreamScores) -> List[StreamScores]:
    """Align two score sets by id (same samples, same labels required).

    Returns:
        list[StreamScores]: ``[a, b]`` in ``a``'s id order, names kept.
    """
    tmp_a = StreamScores('A', a.ids, a.scores, a.labels, a.meta)
    tmp_b = StreamScores('B', b.ids, b.scores, b.labels, b.meta)
    aligned_a, aligned_b = align_streams([tmp_a, tmp_b])
    aligned_a.name, aligned_b.name = a.name, b.name
    return [aligned_a, aligned_b]
