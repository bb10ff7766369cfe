"""Write class-balanced labelled subsets of a split into a skeleton pickle.

    python tools/data/make_semi_splits.py data/nturgbd/ntu60_3d.pkl \
        --split xsub_train --ratios 0.01 0.1 --seed 0

adds ``xsub_train_semi1`` and ``xsub_train_semi10`` to the file's ``split``
dict (``--out`` writes a copy instead of replacing the file), so every
semi-supervised run of every method trains on the same clips. Per class
``c`` with ``n_c`` clips in the split, ``max(1, round(ratio * n_c))`` clips
are drawn without replacement by ``numpy.random.default_rng(seed)``
(classes in increasing order; the ids keep the split's order). An existing
subset with other ids is an error unless ``--force``; the same ids are left
as they are.
"""
import argparse
import os
import os.path as osp
import pickle
import sys
from collections import defaultdict
from typing import Dict, List, Sequence

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.utils.safe_pickle import safe_load  # noqa: E402


def subset_name(split: str, ratio: float) -> str:
    """``xsub_train`` + 0.01 -> ``xsub_train_semi1``."""
    pct = ratio * 100
    text = f'{pct:g}'.replace('.', 'p')
    return f'{split}_semi{text}'


def balanced_subset(ids: Sequence[str], labels: Dict[str, int],
                    ratio: float, seed: int) -> List[str]:
    """``max(1, round(ratio * n_c))`` ids per class, in the split's order."""
    if not 0 < ratio <= 1:
        raise ValueError(f'ratio must be in (0, 1], got {ratio}')
    by_class = defaultdict(list)
    for i in ids:
        by_class[labels[i]].append(i)
    rng = np.random.default_rng(seed)
    chosen = set()
    for c in sorted(by_class):
        members = by_class[c]
        n = max(1, int(round(ratio * len(members))))
        chosen.update(members[j] for j in rng.choice(len(members), n,
                                                     replace=False))
    return [i for i in ids if i in chosen]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file')
    parser.add_argument('--split', required=True,
                        help='split to draw from, e.g. xsub_train')
    parser.add_argument('--ratios', type=float, nargs='+',
                        default=[0.01, 0.1])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write here instead of in place')
    parser.add_argument('--force', action='store_true',
                        help='replace existing subsets with other ids')
    args = parser.parse_args(argv)

    data = safe_load(args.ann_file)
    if not isinstance(data, dict) or 'split' not in data:
        print(f'{args.ann_file}: no `split` dict; convert the data with '
              'tools/data/*_to_pkl.py first', file=sys.stderr)
        return 2
    if args.split not in data['split']:
        print(f'{args.ann_file}: no split {args.split!r}; available: '
              f'{sorted(data["split"])}', file=sys.stderr)
        return 2
    labels = {a['frame_dir']: int(np.asarray(a['label']).reshape(-1)[0])
              for a in data['annotations']}
    ids = list(data['split'][args.split])
    missing = [i for i in ids if i not in labels]
    if missing:
        print(f'{args.ann_file}: split {args.split!r} names {len(missing)} '
              f'unknown ids, e.g. {missing[0]!r}', file=sys.stderr)
        return 2
    changed = False
    for ratio in args.ratios:
        name = subset_name(args.split, ratio)
        subset = balanced_subset(ids, labels, ratio, args.seed)
        old = data['split'].get(name)
        if old is not None and list(old) == subset:
            print(f'{name}: unchanged ({len(subset)} clips)')
            continue
        if old is not None and not args.force:
            print(f'{name} exists with other ids ({len(old)} clips); '
                  'use --force to replace it (runs trained on it will no '
                  'longer be comparable)', file=sys.stderr)
            return 1
        data['split'][name] = subset
        changed = True
        print(f'{name}: {len(subset)} clips from {len(ids)}, '
              f'{len(set(labels[i] for i in subset))} classes, '
              f'seed {args.seed}')
    if changed or args.out:
        out = args.out or args.ann_file
        tmp = out + '.tmp'
        with open(tmp, 'wb') as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, out)
        print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
