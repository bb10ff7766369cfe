"""Convert a CTR-GCN / FR-Head style ``.npz`` to the annotation pickle.

    python tools/data/npz_to_pkl.py NTU60_CS.npz data/nturgbd/ntu60_xsub.pkl \\
        --splits xsub_train xsub_val

``x_train``/``y_train`` become the first split, ``x_test``/``y_test`` the
second (default names ``train`` and ``val``; name them as the config reads
them, e.g. ``xsub_train xsub_val`` for configs/ntu60_xsub). Flat arrays
(N, T, M*V*C) are cut with ``--num-person`` and ``--num-joints``. A killed run
resumes from ``OUT.pkl.partial/`` (``--no-resume`` starts afresh).
"""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.datasets.converters.npz import AXES, convert_npz  # noqa: E402
from mmskelcl.datasets.converters.report import describe  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('npz_file', help='npz with x_train, y_train, x_test, '
                   'y_test')
    p.add_argument('out_file', help='output pickle')
    p.add_argument('--splits', nargs=2, default=['train', 'val'],
                   metavar=('TRAIN', 'VAL'),
                   help='split names of x_train and x_test')
    p.add_argument('--num-person', type=int, default=2,
                   help='persons in a flat (N, T, M*V*C) array')
    p.add_argument('--num-joints', type=int, default=25,
                   help='joints in a flat (N, T, M*V*C) array')
    p.add_argument('--axes', choices=AXES, default='NTMVC',
                   help='axis order of 5D arrays')
    p.add_argument('--num-classes', type=int, default=None,
                   help='check labels against it (default: one-hot width)')
    p.add_argument('--no-resume', action='store_true',
                   help='ignore a partial cache of an earlier run')
    p.add_argument('--save-every', type=int, default=1000,
                   help='add a chunk to the partial cache every N samples')
    args = p.parse_args(argv)

    start = time.time()
    data = convert_npz(
        args.npz_file, args.out_file, split_names=args.splits,
        num_person=args.num_person, num_joints=args.num_joints,
        axes=args.axes, num_classes=args.num_classes,
        resume=not args.no_resume, save_every=args.save_every)
    print(f'converted in {time.time() - start:.1f} s')
    lines, ok = describe(data, args.out_file, num_classes=args.num_classes)
    print('\n'.join(lines))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
