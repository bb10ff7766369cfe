"""Cut PKU-MMD (Part I or II) labelled actions into the annotation pickle.

    python tools/data/pkummd_to_pkl.py PKU_Skeleton_Renew Train_Label_PKU_final \
        data/pkummd/pkummd1.pkl --xsub Split/cross-subject.txt \
        --xview Split/cross-view.txt

Each row ``action_id, start, end, confidence`` of ``LABEL_DIR/NAME.txt``
becomes one clip (frames [start, end) of ``SKELETON_DIR/NAME.txt``, label
``action_id - 1``); splits ``xsub_train``/``xsub_val`` and
``xview_train``/``xview_val`` follow the release's split lists. Part II is
the same command on its own folders and lists (``data/pkummd/pkummd2.pkl``).
The pickle's ``classes`` names the 51 actions by label (Part II uses the
same ids); ``python -m mmskelcl.datasets.class_names pkummd`` prints them
as a ``--label-map`` file.
A killed run resumes from ``OUT.pkl.partial`` (``--no-resume`` starts
afresh).
"""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.datasets.converters.pkummd import (  # noqa: E402
    NUM_CLASSES, PKUMMDFormatError, clips_per_split, convert_pkummd)
from mmskelcl.datasets.validation import (  # noqa: E402
    check_annotations, format_problems)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('skeleton_dir', help='folder of NAME.txt skeleton files')
    p.add_argument('label_dir', help='folder of NAME.txt label files')
    p.add_argument('out_file', help='output pickle, e.g. '
                   'data/pkummd/pkummd1.pkl')
    p.add_argument('--xsub', help='cross-subject split list')
    p.add_argument('--xview', help='cross-view split list')
    p.add_argument('--no-resume', action='store_true',
                   help='ignore a partial cache of an earlier run')
    p.add_argument('--save-every', type=int, default=50,
                   help='update the partial cache every N videos')
    args = p.parse_args(argv)
    if args.xsub is None and args.xview is None:
        p.error('give --xsub and/or --xview (the release\'s split lists)')
    start = time.time()
    try:
        data = convert_pkummd(args.skeleton_dir, args.label_dir,
                              args.out_file, xsub=args.xsub, xview=args.xview,
                              resume=not args.no_resume,
                              save_every=args.save_every)
    except (FileNotFoundError, PKUMMDFormatError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'wrote {args.out_file}: {len(data["annotations"])} clips in '
          f'{time.time() - start:.1f} s')
    for name, n in clips_per_split(data).items():
        print(f'  {name}: {n}')
    problems = check_annotations(data, file=args.out_file,
                                 num_classes=NUM_CLASSES)
    if problems:
        print(f'check_annotations: {len(problems)} problem(s)\n'
              + format_problems(problems))
        return 1
    print(f'check_annotations: OK (num_classes={NUM_CLASSES})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
