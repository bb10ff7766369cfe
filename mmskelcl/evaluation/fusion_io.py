"""Text report and pickle dump of a :class:`~.fusion.FusionResult`.

:func:`format_report` renders the accuracies of every stream and of the
fusion as one table; :func:`fusion_to_dict` / :func:`save_fusion` write the
multi-stream dump (format 2 of :mod:`mmskelcl.evaluation.scores`), which
:func:`~mmskelcl.evaluation.scores.load_score_file` reads back.
"""
import os
import os.path as osp
import pickle
from typing import TYPE_CHECKING, Any, Dict, List, Mapping

from .scores import FUSION_FORMAT, FUSION_FORMAT_VERSION

if TYPE_CHECKING:  # runtime import would be circular (fusion re-exports us)
    from .fusion import FusionResult


def format_report(result: 'FusionResult', digits: int = 2) -> str:
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


def fusion_to_dict(result: 'FusionResult') -> Dict[str, Any]:
    """Serialise a fusion to the multi-stream dump format.

    The format is number 2 of :mod:`mmskelcl.evaluation.scores`.

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


def save_fusion(result: 'FusionResult', path: str) -> None:
    """Pickle :func:`fusion_to_dict` of ``result`` to ``path``.

    Args:
        result (FusionResult): The fusion.
        path (str): Output ``.pkl`` file; parent folders are created.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(fusion_to_dict(result), f)

