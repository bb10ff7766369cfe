"""Summaries the converter tools print after writing a pickle."""
from collections import Counter
from typing import Dict, List, Optional, Tuple

from ..validation import check_annotations, format_problems


def split_counts(data: dict) -> Dict[str, int]:
    """Number of ids in each split list."""
    return {name: len(ids) for name, ids in data.get('split', {}).items()}


def describe(data: dict, out_file: str,
             num_classes: Optional[int] = None) -> Tuple[List[str], bool]:
    """Lines describing a written pickle (sample and class counts per
    split, keypoint shapes, the validator's verdict with every problem) and
    whether the validator found nothing."""
    annos = data['annotations']
    lines = [f'wrote {out_file}: {len(annos)} samples']
    labels = {a['frame_dir']: a.get('label') for a in annos}
    for name, ids in data.get('split', {}).items():
        classes = Counter(labels.get(i) for i in ids)
        lines.append(f'  {name}: {len(ids)} samples, {len(classes)} classes')
    if annos:
        kp = [a['keypoint'] for a in annos]
        persons = Counter(k.shape[0] for k in kp)
        frames = [k.shape[1] for k in kp]
        lines.append(
            f'  keypoint {kp[0].dtype} (M, T, V, C): M '
            f'{dict(sorted(persons.items()))}, T {min(frames)}-{max(frames)}'
            f', V {kp[0].shape[2]}, C {kp[0].shape[3]}')
    problems = check_annotations(data, out_file, num_classes=num_classes)
    if problems:
        lines.append(f'check_annotations: {len(problems)} problem(s)')
        lines.append(format_problems(problems, max_listed=len(problems)))
    else:
        suffix = f' (num_classes={num_classes})' if num_classes else ''
        lines.append(f'check_annotations: OK{suffix}')
    return lines, not problems
