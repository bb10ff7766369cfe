"""Convert raw NTU RGB+D 60/120 ``.skeleton`` files to the annotation pickle.

    python tools/data/ntu_to_pkl.py SKELETONS/ data/nturgbd/ntu60_3d.pkl \\
        --missing NTU_RGBD_samples_with_missing_skeletons.txt
    python tools/data/ntu_to_pkl.py SKELETONS/ data/nturgbd/ntu120_3d.pkl \\
        --benchmark ntu120 \\
        --missing NTU_RGBD120_samples_with_missing_skeletons.txt

Splits: ``xsub_train``/``xsub_val`` and ``xview_*`` (ntu60) or ``xset_*``
(ntu120), from the subject, camera and setup ids. The missing-skeleton lists
are in the ``Matlab/`` folder of https://github.com/shahroudy/NTURGB-D. At
most two bodies per sample (see mmskelcl/datasets/converters/ntu_skeleton.py
for the rule). A killed run resumes from ``OUT.pkl.partial/``
(``--no-resume`` starts afresh).
"""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.datasets.converters.ntu import (  # noqa: E402
    BENCHMARKS, convert_ntu)
from mmskelcl.datasets.converters.report import describe  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src_dir', help='folder of SsssCcccPpppRrrrAaaa.skeleton')
    p.add_argument('out_file', help='output pickle, e.g. '
                   'data/nturgbd/ntu60_3d.pkl')
    p.add_argument('--benchmark', choices=sorted(BENCHMARKS),
                   default='ntu60', help='ntu60 (setups 1-17, actions 1-60, '
                   'xsub/xview) or ntu120 (all, xsub/xset)')
    p.add_argument('--missing', action='append', default=[],
                   metavar='LIST', help='published missing-skeleton list '
                   '(repeatable); listed samples are skipped')
    p.add_argument('--max-bodies', type=int, default=2,
                   help='persons kept per sample')
    p.add_argument('--no-resume', action='store_true',
                   help='ignore a partial cache of an earlier run')
    p.add_argument('--save-every', type=int, default=500,
                   help='add a chunk to the partial cache every N files')
    args = p.parse_args(argv)
    if not args.missing:
        print('note: no --missing list given; samples without any tracked '
              'body are still skipped, but the official lists also name '
              'samples with incomplete skeletons')

    start = time.time()
    data, skipped = convert_ntu(
        args.src_dir, args.out_file, benchmark=args.benchmark,
        missing_files=args.missing, max_bodies=args.max_bodies,
        resume=not args.no_resume, save_every=args.save_every)
    print(f'{args.benchmark}: converted in {time.time() - start:.1f} s; '
          f'skipped {len(skipped["listed"])} listed missing sample(s), '
          f'{len(skipped["no_body"])} without any body'
          + (f' (e.g. {skipped["no_body"][:3]})' if skipped['no_body']
             else ''))
    lines, ok = describe(
        data, args.out_file,
        num_classes=BENCHMARKS[args.benchmark]['max_action'])
    print('\n'.join(lines))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
