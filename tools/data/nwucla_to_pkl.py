"""Convert NW-UCLA ``all_sqe/*.json`` skeletons to the annotation pickle.

    python tools/data/nwucla_to_pkl.py path/to/all_sqe data/nwucla/nwucla.pkl

Splits: ``train`` (views 1, 2) and ``val`` (view 3); labels 0-9 for actions
a01-a06, a08, a09, a11, a12. A killed run resumes from ``OUT.pkl.partial``
(``--no-resume`` starts afresh).
"""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.datasets.converters.nwucla import (  # noqa: E402
    CLASSES, convert_nwucla, summarize)
from mmskelcl.datasets.validation import (  # noqa: E402
    check_annotations, format_problems)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src_dir', help='folder of aAA_sSS_eEE_vVV.json files')
    p.add_argument('out_file', help='output pickle, e.g. '
                   'data/nwucla/nwucla.pkl')
    p.add_argument('--no-resume', action='store_true',
                   help='ignore a partial cache of an earlier run')
    p.add_argument('--save-every', type=int, default=100,
                   help='update the partial cache every N files')
    args = p.parse_args(argv)

    start = time.time()
    try:
        data = convert_nwucla(args.src_dir, args.out_file,
                              resume=not args.no_resume,
                              save_every=args.save_every)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    elapsed = time.time() - start
    counts = summarize(data)
    print(f'wrote {args.out_file}: {len(data["annotations"])} sequences '
          f'in {elapsed:.1f} s')
    for name, counter in counts.items():
        print(f'  {name}: {sum(counter.values())}')
    print(f'  {"label":<5} {"class":<24}' +
          ''.join(f' {name:>6}' for name in counts))
    for label, cls in enumerate(CLASSES):
        print(f'  {label:<5} {cls:<24}' +
              ''.join(f' {c[label]:>6}' for c in counts.values()))
    problems = check_annotations(data, file=args.out_file,
                                 num_classes=len(CLASSES))
    if problems:
        print(f'check_annotations: {len(problems)} problem(s)\n'
              + format_problems(problems))
        return 1
    print('check_annotations: OK (num_classes=10)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
