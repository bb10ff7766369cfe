"""Validate a skeleton annotation pickle and report every problem.

    python tools/data/check_pkl.py data/finegym/gym_hrnet.pkl --num-classes 99

Checks (mmskelcl.datasets.validation, the same the configs' SkeletonDataset
runs on load): top-level layout, missing keys, ranks and shapes, dtype,
NaN/inf, empty clips, labels out of range, total_frames vs keypoints,
img_shape, splits naming unknown ids, duplicated ids. Prints one line per
problem (sample id, field, what is wrong) and exits 1 if there is any, 2 if
the file cannot be read, 0 otherwise.
"""
import argparse
import os.path as osp
import pickle
import sys
from collections import Counter

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.utils.safe_pickle import safe_load  # noqa: E402
from mmskelcl.datasets.validation import (  # noqa: E402
    check_annotations, format_problems)


def summary(data) -> str:
    """One line: samples, splits and label range (best effort)."""
    annos = data.get('annotations') if isinstance(data, dict) else data
    if not isinstance(annos, (list, tuple)):
        return ''
    labels = [a.get('label') for a in annos if isinstance(a, dict)]
    ints = [v for v in labels if isinstance(v, int)]
    text = f'{len(annos)} samples'
    if ints:
        text += f', labels {min(ints)}-{max(ints)} ({len(set(ints))} used)'
    split = data.get('split') if isinstance(data, dict) else None
    if isinstance(split, dict):
        text += ', splits ' + ', '.join(
            f'{k}: {len(v) if hasattr(v, "__len__") else "?"}'
            for k, v in split.items())
    kp = [a['keypoint'] for a in annos
          if isinstance(a, dict) and hasattr(a.get('keypoint'), 'shape')]
    if kp:
        shapes = Counter(k.shape[0] for k in kp if k.ndim == 4)
        text += f', persons {dict(sorted(shapes.items()))}'
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('file', help='annotation pickle')
    p.add_argument('--num-classes', type=int, default=None,
                   help='labels must lie in [0, N)')
    p.add_argument('--split', default=None,
                   help='check only this split\'s samples (all by default)')
    args = p.parse_args(argv)
    if not osp.isfile(args.file):
        print(f'{args.file}: file does not exist')
        return 2
    try:
        data = safe_load(args.file)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError,
            ImportError, IndexError, TypeError, ValueError) as e:
        print(f'{args.file}: cannot be read as a pickle: '
              f'{type(e).__name__}: {e}')
        return 2
    problems = check_annotations(data, args.file, split=args.split,
                                 num_classes=args.num_classes)
    print(f'{args.file}: {summary(data)}')
    if problems:
        print(f'{len(problems)} problem(s):')
        print(format_problems(problems, max_listed=len(problems)))
        return 1
    print('OK: no problem found')
    return 0


if __name__ == '__main__':
    sys.exit(main())
