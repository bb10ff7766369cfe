"""Assemble the FineGym Gym99 pickle from extracted skeletons and the lists.

    python tools/data/gym_to_pkl.py gym_2d_raw.pkl data/finegym/gym.pkl \\
        --train gym99_train_element_v1.1.txt --val gym99_val_element.txt \\
        --categories gym99_categories.txt

SKELETONS are extractor outputs (files, or folders of ``*.pkl``) of the
element clips. Splits ``train``/``val``, labels 0-98 from the lists, and a
``classes`` list (name, event, set, Gym530 label of each class) for
per-event analysis. Listed elements without a skeleton are reported and left
out (``--strict``: an error). A killed run resumes from ``OUT.pkl.partial/``.
"""
import argparse
import os.path as osp
import sys
import time
from collections import Counter

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

from mmskelcl.datasets.converters.gym import ID_STYLES, convert_gym  # noqa
from mmskelcl.datasets.converters.report import describe  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('skeletons', nargs='+',
                   help='extractor output pickle(s) or folder(s)')
    p.add_argument('out_file', help='output pickle')
    p.add_argument('--train', required=True,
                   help='gym99_train_element_v1.1.txt')
    p.add_argument('--val', required=True, help='gym99_val_element.txt')
    p.add_argument('--categories', required=True,
                   help='gym99_categories.txt')
    p.add_argument('--id-style', choices=ID_STYLES, default='pyskl',
                   help='ids as in PySKL\'s gym_hrnet.pkl or as FineGym')
    p.add_argument('--strict', action='store_true',
                   help='fail if a listed element has no skeleton')
    p.add_argument('--no-resume', action='store_true',
                   help='ignore a partial cache of an earlier run')
    args = p.parse_args(argv)

    start = time.time()
    data, missing = convert_gym(
        args.skeletons, args.train, args.val, args.categories, args.out_file,
        id_style=args.id_style, strict=args.strict,
        resume=not args.no_resume)
    print(f'assembled in {time.time() - start:.1f} s')
    if missing:
        more = ' ...' if len(missing) > 5 else ''
        print(f'{len(missing)} listed element(s) without a skeleton, left '
              f'out: {", ".join(missing[:5])}{more}')
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    event = {c['label']: c['event'] for c in data['classes']}
    for name, ids in data['split'].items():
        per_event = Counter(event[labels[i]] for i in ids)
        print(f'  {name} per event: {dict(sorted(per_event.items()))}')
    lines, ok = describe(data, args.out_file,
                         num_classes=len(data['classes']))
    print('\n'.join(lines))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
