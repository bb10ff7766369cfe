"""Accuracy report of dumped class scores, optionally against another model.

    python tools/analysis/report.py SCORES.pkl [--label-map FILE]
        [--hierarchy gym99_categories.txt] [--compare OTHER.pkl]
        [--out-dir DIR] [--stream NAME] [--top-pairs 10]

SCORES.pkl: ``tools/test.py --dump`` (fused scores unless ``--stream``),
a single-stream dump or an MMAction2 ``DumpResults`` pickle. Prints overall
top-1 / top-5 / mean-class accuracy, per-class accuracy, the most confused
class pairs, the accuracy per event and per set (``--hierarchy``) and how
the checkpoint was chosen (nothing the file names is run: the checkpoint
is opened with the safe loader and configs are read as data, see
``docs/security.md``). Class names come from ``--label-map``, else
``--hierarchy``, else the names ``tools/test.py`` stored in the dump (the
test pickle's or the checkpoint's), else the checkpoint the dump names.
``--compare`` puts a second model beside it
(SCORES is A, e.g. the baseline; OTHER is B, e.g. the method) with the
per-class differences. ``--out-dir`` writes ``confusion.png`` (and
``confusion_B.png``), ``event.png`` / ``set.png``, ``class_diff.png`` and
``report.json``. ``--difficulty`` adds CSRE's Table 7, the accuracy by
difficulty level (Hard < 80 %, Medium 80-90 %, Easy > 90 % per-class
accuracy; with ``--compare`` both models on A's levels, ``--difficulty own``
each on its own; see :mod:`mmskelcl.analysis.difficulty`) and, with
``--out-dir``, ``difficulty.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings
from typing import List, Optional

try:
    import mmskelcl  # noqa: F401
except ImportError:  # not installed: run from a source checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

from mmskelcl.analysis import (align_for_comparison, build_report,
                               describe_score_meta, format_comparison,
                               format_report, load_label_map, load_scores,
                               parse_gym_categories, report_to_dict)
from mmskelcl.analysis import plots
from mmskelcl.analysis.per_class import class_names_from_meta
from mmskelcl.analysis.difficulty import (difficulty_table,
                                          difficulty_to_dict,
                                          format_difficulty)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description='Per-class, confusion and per-group accuracy of dumped '
        'scores', formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('scores', help='score file (A)')
    p.add_argument('--compare', metavar='OTHER.pkl',
                   help='second score file (B) on the same samples')
    p.add_argument('--names', nargs=2, metavar=('A', 'B'),
                   help='names of the two models (default: file names)')
    p.add_argument('--stream', help='stream of a multi-stream dump '
                   '(default: the fused scores)')
    p.add_argument('--label-map', help='class names: one per line, or '
                   "FineGym's gym99_categories.txt (default: the names "
                   'stored in the score file by tools/test.py, else in the '
                   'checkpoint it names)')
    p.add_argument('--hierarchy', help="FineGym's gym99_categories.txt: "
                   'accuracy per event and per set')
    p.add_argument('--top-pairs', type=int, default=10,
                   help='how many confused pairs to list')
    p.add_argument('--max-classes', type=int, default=None,
                   help='list only this many classes (worst, or largest '
                   'changes with --compare)')
    p.add_argument('--difficulty', nargs='?', const='first',
                   choices=['first', 'own'],
                   help="accuracy by difficulty level (CSRE Table 7); "
                   "levels from A's per-class accuracy ('first', default) "
                   "or each model's own ('own')")
    p.add_argument('--out-dir', help='write the PNGs and report.json here')
    return p.parse_args(argv)


def _name(path: str, stream: Optional[str]) -> str:
    stem = osp.splitext(osp.basename(path))[0]
    return f'{stem}:{stream}' if stream else stem


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    hierarchy = parse_gym_categories(args.hierarchy) \
        if args.hierarchy else None
    names = load_label_map(args.label_map) if args.label_map else None
    paths = [args.scores] + ([args.compare] if args.compare else [])
    scores = [load_scores(p, args.stream) for p in paths]
    if args.compare:
        scores = align_for_comparison(*scores)
    labels = args.names or [_name(p, args.stream) for p in paths]
    reports = []
    for s, label in zip(scores, labels):
        s.name = label
        own = names
        if own is None and hierarchy is None:  # the names the dump carries
            own = class_names_from_meta(s.meta, s.num_classes)[0]
        reports.append(build_report(s, own, hierarchy, args.top_pairs))
    for r in reports:
        print(format_report(r, describe_score_meta(r.meta),
                            args.max_classes), end='\n\n')
    if args.compare:
        print(format_comparison(*reports, max_classes=args.max_classes))
    levels = None
    if args.difficulty:
        levels = difficulty_table(reports, args.difficulty)
        print('\n' + format_difficulty(levels, args.difficulty))
    if args.out_dir:
        written = _write_outputs(reports, args.out_dir)
        if levels is not None:
            path = osp.join(args.out_dir, 'difficulty.json')
            with open(path, 'w', encoding='utf-8') as f:
                json.dump(difficulty_to_dict(levels, args.difficulty), f,
                          indent=1)
            written.append(path)
        print('\nwritten: ' + ', '.join(written))


def _write_outputs(reports: list, out_dir: str) -> List[str]:
    os.makedirs(out_dir, exist_ok=True)
    out = [plots.plot_confusion(reports[0], osp.join(out_dir,
                                                     'confusion.png'))]
    if len(reports) == 2:
        out.append(plots.plot_confusion(
            reports[1], osp.join(out_dir, 'confusion_B.png')))
        out.append(plots.plot_class_difference(
            *reports, osp.join(out_dir, 'class_diff.png')))
    for level in reports[0].groups:
        out.append(plots.plot_group_accuracy(
            reports, level, osp.join(out_dir, f'{level}.png')))
    path = osp.join(out_dir, 'report.json')
    with open(path, 'w', encoding='utf-8') as f:
        json.dump([report_to_dict(r) for r in reports], f, indent=1)
    return out + [path]


def _one_line_warning(message, category, filename, lineno, line=None):
    """Warnings as ``warning: <message>`` lines (a refused file named in
    a score file is one line, not a source excerpt)."""
    return f'warning: {message}\n'


if __name__ == '__main__':
    warnings.formatwarning = _one_line_warning
    main()
