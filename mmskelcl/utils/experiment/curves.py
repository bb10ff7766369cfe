"""Training curves of a grid's runs: per epoch, the mean logged
classification loss and the auxiliary losses (``loss - loss_cls``: the
bank, CFR or CSRE terms, zero for a plain encoder), from each run's
``scalars.json`` in ``<work dir>/<entry>/seed<k>/train``.

    python tools/experiment.py curves work_dirs/nwucla_grid --seeds 1 \\
        --out docs/results/nwucla/curves_seed1.png
"""
import os
import os.path as osp
import re
from typing import Dict, Optional, Sequence, Tuple

from . import logs

Curves = Dict[Tuple[str, int], Dict[int, Dict[str, float]]]


def epoch_means(train_dir: str) -> Dict[int, Dict[str, float]]:
    """``epoch -> {'loss_cls', 'aux', 'top1_acc'}``: means of the logged
    values of each epoch (every logged value is the mean of its interval)
    for the keys a run logged."""
    out = {}
    keys = ('loss', 'loss_cls', 'top1_acc')
    for epoch, m in logs.epoch_means(train_dir, keys.__contains__).items():
        out[epoch] = {}
        if 'loss_cls' in m:  # logged on the same lines as 'loss'
            out[epoch].update(loss_cls=m['loss_cls'],
                              aux=m['loss'] - m['loss_cls'])
        if 'top1_acc' in m:
            out[epoch]['top1_acc'] = m['top1_acc']
    return out


def collect(work_dir: str, seeds: Optional[Sequence[int]] = None,
            entries: Optional[Sequence[str]] = None) -> Curves:
    """Per-epoch means of every ``(entry, seed)`` training stage found in
    ``work_dir`` (optionally only these seeds / entries)."""
    curves: Curves = {}
    for entry in sorted(os.listdir(work_dir)):
        if entries and entry not in entries:
            continue
        for name in sorted(os.listdir(osp.join(work_dir, entry))):
            m = re.fullmatch(r'seed(\d+)', name)
            train = osp.join(work_dir, entry, name, 'train')
            if not m or not osp.isdir(train):
                continue
            seed = int(m.group(1))
            if seeds and seed not in seeds:
                continue
            means = epoch_means(train)
            if means:
                curves[(entry, seed)] = means
    return curves


def plot_curves(curves: Curves, path: str) -> None:
    """Classification loss and auxiliary loss per epoch, one line per run
    (one colour per entry, one line style per seed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    entries = sorted({e for e, _ in curves})
    seeds = sorted({s for _, s in curves})
    cycle = plt.rcParams['axes.prop_cycle'].by_key()['color']
    styles = ['-', '--', ':', '-.']
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for (entry, seed), means in sorted(curves.items()):
        epochs = sorted(means)
        kw = dict(color=cycle[entries.index(entry) % len(cycle)],
                  linestyle=styles[seeds.index(seed) % len(styles)],
                  marker='o', markersize=3,
                  label=entry + (f' seed {seed}' if len(seeds) > 1 else ''))
        for ax, key in zip(axes, ('loss_cls', 'aux')):
            ax.plot(epochs, [means[e].get(key, float('nan'))
                             for e in epochs], **kw)
    axes[0].set_title('classification loss (epoch mean)', fontsize=9)
    axes[1].set_title('auxiliary losses (loss - loss_cls)', fontsize=9)
    for ax in axes:
        ax.set_xlabel('epoch')
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
