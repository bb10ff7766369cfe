"""Text tables and JSON of :class:`~mmskelcl.analysis.report.ScoreReport`."""
import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .report import ScoreReport

def table(header: Sequence[str], rows: Sequence[Sequence[Any]],
          left: int = 1) -> str:
    """A plain text table; the first ``left`` columns are left-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[c]) for r in cells) for c in range(len(header))]

    def fmt(row: List[str]) -> str:
        return ' | '.join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    rule = '-+-'.join('-' * w for w in widths)
    return '\n'.join([fmt(cells[0]), rule] + [fmt(r) for r in cells[1:]])


def pct(value: float, digits: int = 2) -> str:
    """A fraction as a percentage, ``-`` for nan."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return f'{100 * value:.{digits}f}'


def signed_pct(value: float, digits: int = 2) -> str:
    """A difference of fractions as signed percentage points."""
    if value is None or math.isnan(value):
        return '-'
    return f'{100 * value:+.{digits}f}'


def _short(name: str, width: int = 48) -> str:
    return name if len(name) <= width else name[:width - 3] + '...'


def format_report(report: ScoreReport,
                  protocol: Optional[str] = None,
                  max_classes: Optional[int] = None) -> str:
    """The text report of one score set.

    Args:
        report (ScoreReport): The analysis.
        protocol (str, optional): Checkpoint-selection note to print.
        max_classes (int, optional): Only list the worst classes.

    Returns:
        str: Overall metrics, per-class table, confused pairs and the
        per-group tables.
    """
    n, k = len(report.ids), report.num_classes
    lines = [f'Score report: {report.name} ({n} samples, {k} classes, '
             'accuracy in %)']
    if protocol:
        parts = protocol.splitlines()
        if len(parts) == 1:
            lines.append(f'Evaluation protocol: {protocol}')
        else:
            lines += ['Evaluation protocol:'] + [f'  {p}' for p in parts]
    m = report.metrics
    lines += [f'Overall: top1 {pct(m["top1"])} | top5 {pct(m["top5"])} | '
              f'mean-class {pct(m["mean1"])}', '']
    acc, counts = report.class_acc, report.class_counts
    order = list(range(k))
    title = 'Per-class accuracy'
    if max_classes is not None and max_classes < k:
        order = sorted(order, key=lambda i: (np.nan_to_num(acc[i], nan=2), i))
        order = order[:max_classes]
        title += f' (the {max_classes} worst classes)'
    rows = [[i, _short(report.class_names[i]), int(counts[i]),
             int(report.confusion[i, i]), pct(acc[i])] for i in order]
    lines += [title + ':', table(['label', 'class', 'samples', 'correct',
                                   'acc'], rows, left=2), '']
    lines.append('Most confused class pairs (errors between the two):')
    if report.pairs:
        rows = [[f'{p.a} {_short(report.class_names[p.a], 36)}',
                 f'{p.b} {_short(report.class_names[p.b], 36)}', p.a_as_b,
                 p.b_as_a, p.total] for p in report.pairs]
        lines.append(table(['class a', 'class b', 'a as b', 'b as a',
                            'total'], rows, left=2))
    else:
        lines.append('(no errors)')
    for level, groups in report.groups.items():
        lines += ['', f'Accuracy per {level} '
                  f'({k}-way top-1 over the samples of each {level}; coarse: '
                  f'predicted class in the same {level}):']
        rows = [[g.name, g.num, g.correct, pct(g.acc), pct(g.coarse_acc)]
                for g in groups]
        lines.append(table([level, 'samples', 'correct', 'acc', 'coarse'],
                           rows))
    return '\n'.join(lines)


def format_comparison(a: ScoreReport, b: ScoreReport,
                      max_classes: Optional[int] = None) -> str:
    """Two models side by side, with per-class and per-group differences.

    Args:
        a (ScoreReport): The reference (e.g. the baseline).
        b (ScoreReport): The other model (e.g. the method), same samples.
        max_classes (int, optional): Only list the classes with the largest
            absolute change.

    Returns:
        str: The comparison tables (``B-A`` in percentage points).
    """
    lines = [f'Comparison: A = {a.name}, B = {b.name} ({len(a.ids)} samples,'
             ' accuracy in %, B-A in points)']
    rows = [[key, pct(a.metrics[key]), pct(b.metrics[key]),
             signed_pct(b.metrics[key] - a.metrics[key])]
            for key in ('top1', 'top5', 'mean1')]
    lines += [table(['metric', 'A', 'B', 'B-A'], rows), '']
    acc_a, acc_b = a.class_acc, b.class_acc
    diff = acc_b - acc_a
    order = sorted(range(a.num_classes),
                   key=lambda i: (-np.nan_to_num(diff[i], nan=-9), i))
    title = 'Per-class accuracy, largest gain first'
    if max_classes is not None and max_classes < a.num_classes:
        order = sorted(order, key=lambda i: (-abs(np.nan_to_num(diff[i])), i))
        order = order[:max_classes]
        title = f'Per-class accuracy, the {max_classes} largest changes'
    rows = [[i, _short(a.class_names[i]), int(a.class_counts[i]),
             pct(acc_a[i]), pct(acc_b[i]), signed_pct(diff[i])]
            for i in order]
    lines += [title + ':', table(['label', 'class', 'samples', 'A', 'B',
                                   'B-A'], rows, left=2)]
    for level in a.groups:
        rows = [[ga.name, ga.num, pct(ga.acc), pct(gb.acc),
                 signed_pct(gb.acc - ga.acc)]
                for ga, gb in zip(a.groups[level], b.groups[level])]
        lines += ['', f'Accuracy per {level}:',
                  table([level, 'samples', 'A', 'B', 'B-A'], rows)]
    return '\n'.join(lines)


def _nan_to_none(values: Sequence[float]) -> List[Optional[float]]:
    return [None if math.isnan(v) else float(v) for v in values]


def report_to_dict(report: ScoreReport) -> Dict[str, Any]:
    """JSON-serialisable form of a report (fractions, not percentages)."""
    return dict(
        name=report.name,
        num_samples=len(report.ids),
        metrics=dict(report.metrics),
        classes=[dict(label=i, name=report.class_names[i],
                      samples=int(report.class_counts[i]),
                      correct=int(report.confusion[i, i]), acc=acc)
                 for i, acc in enumerate(_nan_to_none(report.class_acc))],
        confused_pairs=[dict(a=p.a, b=p.b, a_as_b=p.a_as_b, b_as_a=p.b_as_a,
                             total=p.total) for p in report.pairs],
        groups={level: [dict(name=g.name, samples=g.num, correct=g.correct,
                             acc=_nan_to_none([g.acc])[0],
                             coarse_acc=_nan_to_none([g.coarse_acc])[0])
                        for g in groups]
                for level, groups in report.groups.items()},
        confusion=report.confusion.tolist())
