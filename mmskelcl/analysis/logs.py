"""Training curves from mmengine's JSON logs.

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/
<timestamp>.json`` (and a copy, ``scalars.json``): one JSON object per
line. Training lines carry ``loss``, ``loss_cls``, each auxiliary loss
(``loss_contrast``, ``loss_cfr``, ...), ``lr``, ``epoch``, ``iter`` and
``step`` (the global iteration); validation lines carry ``acc/top1``,
``acc/top5``, ``acc/mean1`` and ``step`` (the epoch, in epoch-based runs).
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .plots import new_figure, save_figure

Curve = Tuple[np.ndarray, np.ndarray]


@dataclass
class RunLog:
    """The curves of one run.

    Args:
        name (str): Legend name.
        train (dict[str, Curve]): Per key, (global iteration, value).
        val (dict[str, Curve]): Per key, (step, value); the step is the
            epoch in epoch-based runs.
        iters_per_epoch (float, optional): Estimated from the training
            lines (``iter / epoch`` of the last line).
    """

    name: str
    train: Dict[str, Curve] = field(default_factory=dict)
    val: Dict[str, Curve] = field(default_factory=dict)
    iters_per_epoch: Optional[float] = None


def find_json_logs(path: str) -> List[str]:
    """The JSON log files of a run: ``path`` itself or under a work dir.

    A work dir may hold several timestamped runs (e.g. a resumed training);
    all are returned in time order, ``scalars.json`` copies excluded.
    """
    if osp.isfile(path):
        return [path]
    files = sorted(
        f for f in glob.glob(osp.join(path, '**', 'vis_data', '*.json'),
                             recursive=True)
        if osp.basename(f) != 'scalars.json')
    if not files:
        raise FileNotFoundError(f'no mmengine JSON log (<timestamp>/vis_data/'
                                f'<timestamp>.json) under {path!r}')
    return files


def load_run(path: str, name: Optional[str] = None) -> RunLog:
    """Read the train and val curves of one run.

    Later lines win when a step repeats (a resumed run logs again from the
    resume point).

    Args:
        path (str): A JSON log or a work dir.
        name (str, optional): Legend name; default the work dir's name.

    Returns:
        RunLog: The curves.
    """
    files = find_json_logs(path)
    if name is None:
        work_dir = path if osp.isdir(path) else osp.dirname(
            osp.dirname(osp.dirname(osp.abspath(path))))
        name = osp.basename(osp.normpath(work_dir))
    train: Dict[str, Dict[int, float]] = {}
    val: Dict[str, Dict[int, float]] = {}
    last_epoch = last_iter = None
    for file in files:
        with open(file, encoding='utf-8') as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                step = int(row.get('step', row.get('iter', 0)))
                is_train = 'loss' in row or 'lr' in row
                target = train if is_train else val
                for key, value in row.items():
                    if key in ('step', 'iter', 'epoch') or not isinstance(
                            value, (int, float)):
                        continue
                    target.setdefault(key, {})[step] = float(value)
                if is_train and 'epoch' in row and 'iter' in row:
                    last_epoch, last_iter = row['epoch'], row['iter']

    def curves(table: Dict[str, Dict[int, float]]) -> Dict[str, Curve]:
        return {k: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)]))
                for k, v in table.items()}

    ipe = None
    if last_epoch and last_iter and last_iter >= last_epoch:
        ipe = last_iter / last_epoch
    return RunLog(name, curves(train), curves(val), ipe)


def default_keys(runs: Sequence[RunLog]) -> List[str]:
    """Every loss key (``loss`` first, then ``loss_cls``, then the auxiliary
    losses) and every ``acc/`` key found in the runs."""
    train = {k for r in runs for k in r.train if k.startswith('loss')}
    val = {k for r in runs for k in r.val if k.startswith('acc/')}
    first = [k for k in ('loss', 'loss_cls') if k in train]
    acc = [k for k in ('acc/top1', 'acc/top5', 'acc/mean1') if k in val]
    return (first + sorted(train - set(first)) + acc +
            sorted(val - set(acc)))


def plot_runs(runs: Sequence[RunLog],
              path: str,
              keys: Optional[Sequence[str]] = None,
              by_epoch: bool = True,
              cols: int = 2) -> str:
    """One panel per key, one line per run, written as a PNG.

    Args:
        runs (Sequence[RunLog]): The runs (same colour per run in every
            panel).
        path (str): Output ``.png``.
        keys (Sequence[str], optional): Keys to draw; default
            :func:`default_keys`.
        by_epoch (bool): x axis of the training curves in epochs (when the
            iterations per epoch are known), else iterations.
        cols (int): Panels per row.

    Returns:
        str: ``path``.
    """
    keys = list(keys) if keys else default_keys(runs)
    if not keys:
        raise ValueError('no loss or accuracy keys in the logs')
    cols = max(1, min(cols, len(keys)))
    rows = int(np.ceil(len(keys) / cols))
    fig = new_figure(5.0 * cols, 3.6 * rows)
    from matplotlib import colormaps
    colors = colormaps['tab10'](np.arange(len(runs)) % 10)
    for idx, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, idx + 1)
        drawn = False
        for run, color in zip(runs, colors):
            if key in run.train:
                x, y = run.train[key]
                xlabel = 'iteration'
                if by_epoch and run.iters_per_epoch:
                    x, xlabel = x / run.iters_per_epoch, 'epoch'
                ax.plot(x, y, color=color, label=run.name, linewidth=1.2)
            elif key in run.val:
                x, y = run.val[key]
                xlabel = 'epoch' if by_epoch else 'step'
                ax.plot(x, y, color=color, label=run.name, marker='o',
                        markersize=3, linewidth=1.2)
            else:
                continue
            drawn = True
            ax.set_xlabel(xlabel)
        ax.set_title(key, fontsize=10)
        if drawn and xlabel == 'epoch':
            ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, 'not logged', ha='center', va='center',
                    transform=ax.transAxes)
    fig.tight_layout()
    return save_figure(fig, path)
