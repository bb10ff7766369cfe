"""Class names of dumped scores and the per-class table of ``tools/test.py``.

Names travel with the scores. ``tools/test.py`` stores in each stream's
``meta['classes']`` the test dataset's ``metainfo['classes']`` (the names
the converters write into the pickle, :mod:`mmskelcl.datasets.class_names`)
or, when the pickle has none, the checkpoint's
``meta['dataset_meta']['classes']`` (the training pickle's). Its ``--dump``
files therefore carry them, and ``tools/analysis/report.py`` reads them
back with :func:`class_names_from_meta`; a dump without names falls back to
the checkpoint its meta names.
"""
import os.path as osp
import warnings
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from mmskelcl.datasets.class_names import class_names
from .report_format import pct, table


def checkpoint_class_names(checkpoint: Any) -> Optional[List[str]]:
    """``meta['dataset_meta']['classes']`` of a checkpoint file; None when
    the file is absent, unreadable or has no names."""
    if not checkpoint or not osp.isfile(str(checkpoint)):
        return None
    try:
        from mmskelcl.apis.inference import load_checkpoint_state
        meta = load_checkpoint_state(str(checkpoint))[1]
    except Exception:  # not a checkpoint this project can read
        return None
    return class_names((meta.get('dataset_meta') or {}).get('classes'))


def fitting_names(names: Optional[Sequence[Any]], num_classes: int,
                  source: str) -> Optional[List[str]]:
    """``names`` as strings when there is one per class; else None, with a
    warning naming ``source`` when names of another count were found."""
    names = class_names(names)
    if names is None:
        return None
    if len(names) != num_classes:
        warnings.warn(f'{source} names {len(names)} classes but the scores '
                      f'have {num_classes}; classes shown by label only '
                      '(give --label-map FILE for names)')
        return None
    return names


def class_names_from_meta(meta: Mapping,
                          num_classes: int) -> Tuple[Optional[List[str]], str]:
    """Class names of a score set from its metadata.

    Looks at ``meta['classes']`` (``meta['classes_from']`` says where
    ``tools/test.py`` found them), then (fused scores of a multi-stream dump)
    each stream's ``classes`` in ``meta['stream_meta']``, then the
    checkpoint(s) the meta names.

    Args:
        meta (Mapping): ``StreamScores.meta`` (see
            :func:`mmskelcl.analysis.load_scores`).
        num_classes (int): Classes of the scores.

    Returns:
        tuple[list[str] | None, str]: The names (None when none fit) and
        where they came from.
    """
    metas = [meta] + list((meta.get('stream_meta') or {}).values())
    for m in metas:
        if m.get('classes') is not None:
            where = m.get('classes_from') or 'the score file'
            return fitting_names(m['classes'], num_classes, where), where
    for m in metas:
        names = checkpoint_class_names(m.get('checkpoint'))
        if names is not None:
            where = f'checkpoint {m["checkpoint"]}'
            return fitting_names(names, num_classes, where), where
    return None, 'none stored'


def per_class_counts(scores: np.ndarray, labels: np.ndarray,
                     num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Samples and top-1 hits per true class.

    Args:
        scores (np.ndarray): Class scores (N, K).
        labels (np.ndarray): True labels (N, ).
        num_classes (int): K.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(samples, correct)``, each (K, ).
    """
    labels = np.asarray(labels, dtype=np.int64)
    hits = (np.asarray(scores).argmax(axis=1) == labels).astype(np.int64)
    samples = np.bincount(labels, minlength=num_classes)
    correct = np.bincount(labels, weights=hits, minlength=num_classes)
    return samples, correct.astype(np.int64)


def format_per_class(result: Any,
                     names: Optional[Sequence[str]] = None) -> str:
    """Per-class top-1 accuracy of every stream (and the fusion).

    Args:
        result (FusionResult): What ``tools/test.py`` tested.
        names (Sequence[str], optional): One name per class; default the
            streams' stored names (:func:`class_names_from_meta`), else
            ``class_<i>``.

    Returns:
        str: A table ``label | class | samples | <stream>... | fused``
        (accuracy in %, ``-`` for classes without samples).
    """
    k = result.fused.shape[1]
    source = 'given'
    if names is None:
        for stream in result.streams:
            names, source = class_names_from_meta(stream.meta, k)
            if names is not None:
                break
    if names is None:
        names, source = [f'class_{i}' for i in range(k)], 'none stored'
    elif len(names) != k:
        raise ValueError(f'{len(names)} class names for {k}-class scores')
    columns = [(s.name, s.scores) for s in result.streams]
    if len(columns) > 1:
        columns.append(('fused', result.fused))
    samples = per_class_counts(result.fused, result.labels, k)[0]
    accs = []
    for _, scores in columns:
        n, correct = per_class_counts(scores, result.labels, k)
        with np.errstate(invalid='ignore', divide='ignore'):
            accs.append(np.where(n > 0, correct / np.maximum(n, 1), np.nan))
    rows = [[i, names[i], int(samples[i])] + [pct(a[i]) for a in accs]
            for i in range(k)]
    head = f'Per-class top-1 accuracy in % (class names: {source})'
    return head + '\n' + table(
        ['label', 'class', 'samples'] + [c[0] for c in columns], rows,
        left=2)
