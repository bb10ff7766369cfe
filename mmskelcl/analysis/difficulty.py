"""Accuracy by difficulty level (CSRE, Table 7).

The classes are split into three levels by a model's own per-class top-1
accuracy: **Easy** above 90 %, **Medium** from 80 % to 90 % (both ends
included), **Hard** below 80 %. The paper gives only these bounds; where a
class on a bound goes is our choice (80 % and 90 % are Medium).

A level's accuracy is the mean of the per-class accuracies of its classes
(each class counts once, as the levels are sets of classes); the
sample-weighted accuracy over the level's samples is reported beside it.

Which model sets the levels: alone, a model is graded by its own
accuracies (the paper's reading). When two models are compared (baseline
A, method B), both are graded on **A's** levels by default, so that each
level holds the same classes for both and the difference is a per-class
gain; ``own`` grades each model by itself (the classes may then move
between levels). Classes without test samples belong to no level.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .report import ScoreReport

LEVELS: Tuple[str, ...] = ('Hard', 'Medium', 'Easy')
#: Bounds of the levels, as fractions: ``< 0.8`` Hard, ``> 0.9`` Easy.
BOUNDS: Tuple[float, float] = (0.8, 0.9)


@dataclass
class LevelAccuracy:
    """Accuracy of one difficulty level.

    Args:
        level (str): ``Hard``, ``Medium`` or ``Easy``.
        classes (list[int]): The classes of the level.
        class_mean (float): Mean per-class accuracy (nan when empty).
        num (int): Samples of those classes.
        correct (int): Of which predicted right.
    """

    level: str
    classes: List[int]
    class_mean: float
    num: int
    correct: int

    @property
    def sample_acc(self) -> float:
        """float: Sample-weighted accuracy over the level (nan if empty)."""
        return self.correct / self.num if self.num else float('nan')


def difficulty_levels(class_acc: Sequence[float],
                      bounds: Tuple[float, float] = BOUNDS
                      ) -> List[Optional[str]]:
    """The level of every class from per-class accuracies (fractions).

    Args:
        class_acc (Sequence[float]): ``(K, )``; nan for a class without
            samples (it gets ``None``).
        bounds (tuple[float, float]): ``(hard_below, easy_above)``.

    Returns:
        list[str | None]: One level per class.
    """
    low, high = bounds
    if not 0 <= low <= high <= 1:
        raise ValueError(f'difficulty bounds must satisfy 0 <= low <= high '
                         f'<= 1 (fractions), got {bounds}')
    out: List[Optional[str]] = []
    for acc in np.asarray(class_acc, dtype=np.float64):
        if np.isnan(acc):
            out.append(None)
        elif acc < low:
            out.append('Hard')
        elif acc > high:
            out.append('Easy')
        else:
            out.append('Medium')
    return out


def level_accuracy(report: ScoreReport,
                   levels: Sequence[Optional[str]]) -> List[LevelAccuracy]:
    """Accuracy of ``report`` on each level of ``levels``.

    Args:
        report (ScoreReport): The model's analysis.
        levels (Sequence[str | None]): One level per class of the report
            (e.g. :func:`difficulty_levels` of this or another model).

    Returns:
        list[LevelAccuracy]: Hard, Medium, Easy, in that order.
    """
    if len(levels) != report.num_classes:
        raise ValueError(f'{len(levels)} class levels for a report of '
                         f'{report.num_classes} classes')
    acc, counts = report.class_acc, report.class_counts
    out = []
    for level in LEVELS:
        classes = [k for k, lv in enumerate(levels)
                   if lv == level and counts[k] > 0]
        out.append(LevelAccuracy(
            level=level,
            classes=classes,
            class_mean=float(np.mean(acc[classes])) if classes
            else float('nan'),
            num=int(counts[classes].sum()),
            correct=int(np.diag(report.confusion)[classes].sum())))
    return out


def difficulty_table(reports: Sequence[ScoreReport],
                     graded_by: str = 'first',
                     bounds: Tuple[float, float] = BOUNDS
                     ) -> List[Tuple[str, List[LevelAccuracy]]]:
    """Table 7: every model's accuracy per level.

    Args:
        reports (Sequence[ScoreReport]): One or more models on the same
            samples (the first is the reference, e.g. the baseline).
        graded_by (str): ``'first'``: every model on the first model's
            levels; ``'own'``: each model on its own levels.
        bounds (tuple[float, float]): See :func:`difficulty_levels`.

    Returns:
        list[tuple[str, list[LevelAccuracy]]]: ``(model name, levels)``.
    """
    if graded_by not in ('first', 'own'):
        raise ValueError(f"graded_by must be 'first' or 'own', got "
                         f'{graded_by!r}')
    ref = difficulty_levels(reports[0].class_acc, bounds)
    return [(r.name, level_accuracy(
        r, ref if graded_by == 'first' else
        difficulty_levels(r.class_acc, bounds))) for r in reports]


def format_difficulty(rows: Sequence[Tuple[str, List[LevelAccuracy]]],
                      graded_by: str = 'first') -> str:
    """Text of :func:`difficulty_table` (accuracies in %)."""
    from .report_format import pct, table
    note = ("the first model's" if graded_by == 'first' and len(rows) > 1
            else "each model's own")
    lines = [f'Accuracy by difficulty level (CSRE Table 7; levels from '
             f'{note} per-class accuracy: Hard < 80 %, Medium 80-90 %, '
             'Easy > 90 %; mean per-class accuracy, sample accuracy in '
             'brackets, classes per level):']
    header = ['model'] + list(LEVELS)
    body = [[name] + [f'{pct(lv.class_mean)} ({pct(lv.sample_acc)}) '
                      f'[{len(lv.classes)}]' for lv in levels]
            for name, levels in rows]
    lines.append(table(header, body))
    return '\n'.join(lines)


def difficulty_to_dict(rows: Sequence[Tuple[str, List[LevelAccuracy]]],
                       graded_by: str = 'first') -> dict:
    """JSON form of :func:`difficulty_table` (fractions; nan as None)."""
    def num(v):
        return None if np.isnan(v) else float(v)
    return dict(graded_by=graded_by, bounds=list(BOUNDS), models=[
        dict(name=name, levels=[dict(
            level=lv.level, classes=lv.classes, class_mean=num(lv.class_mean),
            samples=lv.num, correct=lv.correct,
            sample_acc=num(lv.sample_acc)) for lv in levels])
        for name, levels in rows])
