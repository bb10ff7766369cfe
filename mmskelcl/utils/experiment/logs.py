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
from typing import Dict, List, Optional


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


def last_epoch_means(work_dir: str,
                     epoch: Optional[int] = None) -> Dict[str, float]:
    """Mean of every logged ``loss*`` and ``*_anchors`` value over the
    ``epoch`` (1-based; default the last logged one)."""
    rows = read_scalars(work_dir)
    if not rows:
        return {}
    if epoch is None:
        epoch = max(r.get('epoch', 0) for r in rows)
    rows = [r for r in rows if r.get('epoch') == epoch]
    keys = sorted({k for r in rows for k in r
                   if k.startswith('loss') or k.endswith('_anchors')})
    out = {}
    for k in keys:
        vals = [r[k] for r in rows if k in r]
        out[k] = sum(vals) / len(vals)
    return out
