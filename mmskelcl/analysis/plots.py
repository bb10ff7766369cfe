"""PNG figures: confusion matrix, per-group and per-class bars, embeddings.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg
canvas, so nothing here touches ``pyplot``'s global backend or state.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .report import ScoreReport


def new_figure(width: float, height: float):
    """A matplotlib ``Figure`` (inches) on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path: str, dpi: int = 100) -> str:
    """Write ``fig`` as a PNG (parent folders created) and return the path."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi, format='png')
    return path


def class_colors(num_classes: int) -> np.ndarray:
    """``(K, 4)`` RGBA colours, distinct for up to 20 classes."""
    from matplotlib import colormaps
    if num_classes <= 10:
        return colormaps['tab10'](np.arange(num_classes))
    if num_classes <= 20:
        return colormaps['tab20'](np.arange(num_classes))
    return colormaps['turbo'](np.linspace(0.02, 0.98, num_classes))


def short_name(name: str, width: int = 30) -> str:
    """``name`` cut in the middle to ``width`` characters (fine-grained
    class names often differ only at their end)."""
    if len(name) <= width:
        return name
    head = (width - 3) // 2
    return name[:head] + '...' + name[len(name) - (width - 3 - head):]


def _tick_labels(names: Sequence[str], max_named: int) -> Tuple[List[int],
                                                                 List[str]]:
    k = len(names)
    if k <= max_named:
        return list(range(k)), [f'{i} {short_name(n)}'
                                for i, n in enumerate(names)]
    step = int(np.ceil(k / max_named))
    ticks = list(range(0, k, step))
    return ticks, [str(t) for t in ticks]


def plot_confusion(report: ScoreReport, path: str,
                   max_named: int = 30) -> str:
    """Row-normalised confusion matrix (recall per true class) as a PNG.

    Cells hold counts when there are at most 20 classes; class names label
    the axes up to ``max_named`` classes, indices beyond.

    Args:
        report (ScoreReport): The analysis.
        path (str): Output ``.png``.
        max_named (int): Largest K that gets name tick labels.

    Returns:
        str: ``path``.
    """
    conf = report.confusion
    k = conf.shape[0]
    rows = np.maximum(conf.sum(axis=1, keepdims=True), 1)
    norm = conf / rows
    side = float(np.clip(3.0 + 0.3 * k, 6.0, 20.0))
    fig = new_figure(side + 1.5, side)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(norm, cmap='Blues', vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                 label='fraction of the true class')
    ticks, labels = _tick_labels(report.class_names, max_named)
    ax.set_xticks(ticks, labels, rotation=90 if k <= max_named else 0,
                  fontsize=8)
    ax.set_yticks(ticks, labels, fontsize=8)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                if conf[i, j]:
                    ax.text(j, i, str(conf[i, j]), ha='center', va='center',
                            fontsize=8,
                            color='white' if norm[i, j] > 0.5 else 'black')
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    m = report.metrics
    ax.set_title(f'{report.name}\ntop-1 {100 * m["top1"]:.2f}%, '
                 f'mean-class {100 * m["mean1"]:.2f}% ({len(report.ids)} '
                 'samples)', fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_group_accuracy(reports: Sequence[ScoreReport], level: str,
                        path: str) -> str:
    """Per-group accuracy bars, one bar per report in each group.

    The figure of CACL's Figs. 4 (events) and 5 (sets).

    Args:
        reports (Sequence[ScoreReport]): One or more analyses of the same
            samples with the same hierarchy.
        level (str): Hierarchy level (``'event'`` or ``'set'``).
        path (str): Output ``.png``.

    Returns:
        str: ``path``.
    """
    groups = [g.name for g in reports[0].groups[level]]
    n = len(groups)
    width = 0.8 / len(reports)
    fig = new_figure(float(np.clip(2.0 + 0.6 * n * len(reports), 6, 20)),
                     4.5)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(n)
    for r, report in enumerate(reports):
        acc = [100 * np.nan_to_num(g.acc) for g in report.groups[level]]
        bars = ax.bar(x + (r - (len(reports) - 1) / 2) * width, acc, width,
                      label=report.name)
        ax.bar_label(bars, fmt='%.1f', fontsize=7, padding=1)
    counts = [g.num for g in reports[0].groups[level]]
    ax.set_xticks(x, [f'{g}\n(n={c})' for g, c in zip(groups, counts)],
                  fontsize=8)
    ax.set_ylabel('top-1 accuracy (%)')
    ax.set_ylim(0, 118)
    ax.set_yticks(np.arange(0, 101, 20))
    ax.set_title(f'Accuracy per {level} (K-way top-1 over its samples)')
    ax.legend(loc='upper center', ncol=len(reports), fontsize=8,
              frameon=False)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_class_difference(a: ScoreReport, b: ScoreReport, path: str,
                          max_classes: int = 60) -> str:
    """Per-class accuracy change ``B - A`` as bars, sorted.

    With more than ``max_classes`` classes only the largest changes (by
    absolute value) are drawn.

    Returns:
        str: ``path``.
    """
    diff = 100 * np.nan_to_num(b.class_acc - a.class_acc)
    order = np.argsort(-diff, kind='stable')
    if len(order) > max_classes:
        keep = set(np.argsort(-np.abs(diff), kind='stable')[:max_classes])
        order = [i for i in order if i in keep]
    fig = new_figure(float(np.clip(2 + 0.28 * len(order), 6, 20)), 5)
    ax = fig.add_subplot(1, 1, 1)
    colors = ['tab:green' if diff[i] >= 0 else 'tab:red' for i in order]
    ax.bar(np.arange(len(order)), [diff[i] for i in order], color=colors)
    ax.set_xticks(np.arange(len(order)),
                  [f'{i} {short_name(a.class_names[i], 26)}' for i in order],
                  rotation=90, fontsize=7)
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_ylabel('accuracy change (points)')
    ax.set_title(f'Per-class accuracy: {b.name} minus {a.name}')
    fig.tight_layout()
    return save_figure(fig, path)


def plot_embeddings(panels: Sequence[Tuple[str, np.ndarray, np.ndarray]],
                    path: str,
                    class_names: Optional[Sequence[str]] = None,
                    num_classes: Optional[int] = None) -> str:
    """2-D embeddings (t-SNE) coloured by class, one panel per model.

    Args:
        panels (Sequence[tuple]): ``(title, xy (N, 2), labels (N, ))``.
        path (str): Output ``.png``.
        class_names (Sequence[str], optional): Legend names.
        num_classes (int, optional): K; default ``max(label) + 1``.

    Returns:
        str: ``path``.
    """
    if num_classes is None:
        num_classes = 1 + max(int(np.max(p[2])) for p in panels)
    from matplotlib.lines import Line2D
    colors = class_colors(num_classes)
    legend_rows = int(np.ceil(num_classes / 4)) if num_classes <= 20 else 0
    legend_h = 0.25 * legend_rows + (0.2 if legend_rows else 0)
    fig = new_figure(5.5 * len(panels), 5.5 + legend_h)
    axes = [fig.add_subplot(1, len(panels), i + 1)
            for i in range(len(panels))]
    for ax, (title, xy, labels) in zip(axes, panels):
        labels = np.asarray(labels)
        for c in range(num_classes):
            mask = labels == c
            if mask.any():
                name = class_names[c] if class_names else f'class {c}'
                ax.scatter(xy[mask, 0], xy[mask, 1], s=14, color=colors[c],
                           label=name, alpha=0.85, linewidths=0)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if legend_rows:
        handles = [
            Line2D([], [], marker='o', linestyle='', color=colors[c],
                   label=class_names[c] if class_names else f'class {c}')
            for c in range(num_classes)
        ]
        fig.legend(handles=handles, loc='lower center', ncol=4, fontsize=8,
                   frameon=False)
        fig.tight_layout(rect=(0, legend_h / fig.get_figheight(), 1, 1))
    else:
        fig.tight_layout()
    return save_figure(fig, path)
