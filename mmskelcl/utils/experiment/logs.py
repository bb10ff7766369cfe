"""Loss means of a run's last epoch from mmengine's ``scalars.json``.

``LocalVisBackend`` writes ``<work dir>/<timestamp>/vis_data/scalars.json``
(one JSON object per logged iteration; a resumed run adds a timestamp
folder). With the experiment schedule the logger interval equals the log
window, so each logged loss is the mean of the iterations since the
previous log and the mean of an epoch's logged values is the epoch mean
(up to the overlap of its last, shorter interval).
"""
import glob
import json
import os.path as osp
from typing import Callable, Dict, List, Optional


def read_scalars(work_dir: str) -> List[dict]:
    """Training log lines of every (resumed) session, oldest first; a later
    session's lines replace the earlier ones from its first step on."""
    lines: List[dict] = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        rows = [r for r in rows if 'loss' in r and 'step' in r]
        if rows:
            first = rows[0]['step']
            lines = [r for r in lines if r['step'] < first] + rows
    return lines


def epoch_means(work_dir: str,
                keep: Callable[[str], bool]) -> Dict[int, Dict[str, float]]:
    """``epoch -> {key: mean}`` of the logged values of every ``key`` that
    ``keep`` accepts, each over the log lines of the epoch that have it."""
    by_epoch: Dict[int, Dict[str, List[float]]] = {}
    for r in read_scalars(work_dir):
        vals = by_epoch.setdefault(r.get('epoch', 0), {})
        for k, v in r.items():
            if keep(k):
                vals.setdefault(k, []).append(v)
    return {e: {k: sum(v) / len(v) for k, v in sorted(vals.items())}
            for e, vals in sorted(by_epoch.items())}


def last_epoch_means(work_dir: str,
                     epoch: Optional[int] = None) -> Dict[str, float]:
    """Mean of every logged ``loss*`` and ``*_anchors`` value over the
    ``epoch`` (1-based; default the last logged one)."""
    means = epoch_means(
        work_dir, lambda k: k.startswith('loss') or k.endswith('_anchors'))
    if not means:
        return {}
    return means.get(max(means) if epoch is None else epoch, {})
