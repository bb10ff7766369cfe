"""Checks for skeleton annotation files (the PySKL / MMAction2 pickle).

The schema (``docs``: PySKL ``tools/data/README.md``) is
``dict(split=dict(name=[id, ...]), annotations=[anno, ...])`` where every
``anno`` holds ``frame_dir`` (the id), ``total_frames``, ``label``,
``keypoint`` (M, T, V, C) with C in {2, 3} and, for 2D, an optional
``keypoint_score`` (M, T, V) and ``img_shape`` (h, w). Keypoints and scores
must be finite floating-point arrays without an empty axis, and a clip whose
keypoints are all zero (nobody in any frame) is reported as empty. A bare
list of annotations is accepted when no split is requested.

:func:`check_annotations` returns *every* problem, so that a command-line
validator can print them all; :func:`assert_valid_annotations` raises
:class:`AnnotationError` listing them. Nothing here modifies its input.
"""
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

REQUIRED_FIELDS = ('frame_dir', 'total_frames', 'label', 'keypoint')
#: How many missing split ids a problem message quotes.
NUM_IDS_QUOTED = 5


class AnnotationError(ValueError):
    """An annotation file does not follow the skeleton schema.

    Args:
        message (str): The error message.
        problems (Sequence[AnnotationProblem]): Everything found.
    """

    def __init__(self, message: str,
                 problems: Sequence['AnnotationProblem'] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class AnnotationProblem:
    """One thing wrong with an annotation file.

    Attributes:
        file (str): The annotation file (or a description of the object).
        message (str): What is wrong.
        index (int, optional): Position of the sample in ``annotations``;
            None for file-level problems.
        sample_id (str, optional): The sample's id (``frame_dir``), if known.
        field (str, optional): The offending key, e.g. ``'keypoint'``.
    """
    file: str
    message: str
    index: Optional[int] = None
    sample_id: Optional[str] = None
    field: Optional[str] = None

    def __str__(self) -> str:
        where = [self.file]
        if self.index is not None:
            sample = f'annotations[{self.index}]'
            if self.sample_id is not None:
                sample += f' (frame_dir={self.sample_id!r})'
            where.append(sample)
        if self.field is not None:
            where.append(f'field {self.field!r}')
        return ': '.join(where + [self.message])


def sample_identifier(annotations: Sequence[Any]) -> str:
    """The key that split lists refer to: ``'filename'`` if the first
    annotation has it, else ``'frame_dir'`` (as MMAction2's PoseDataset)."""
    first = annotations[0] if len(annotations) else None
    return 'filename' if isinstance(first, dict) and 'filename' in first \
        else 'frame_dir'


def _array_problems(value: Any, field: str, ndim: int,
                    report) -> Optional[Tuple[int, ...]]:
    """Check that ``value`` is a finite numeric ndarray of rank ``ndim``
    with no empty axis; return its shape when it is at least an array of
    the right rank."""
    if not isinstance(value, np.ndarray):
        report(field, f'must be a numpy.ndarray, got {type(value).__name__}')
        return None
    if value.ndim != ndim:
        report(field, f'must have {ndim} dimensions, got shape '
               f'{value.shape}')
        return None
    if not (np.issubdtype(value.dtype, np.integer)
            or np.issubdtype(value.dtype, np.floating)):
        report(field, f'must have a numeric dtype, got {value.dtype}')
        return value.shape
    if not np.issubdtype(value.dtype, np.floating):
        report(field, 'must have a floating-point dtype (float16/32/64), '
               f'got {value.dtype}')
    if 0 in value.shape:
        report(field, f'is empty (shape {value.shape})')
    elif np.issubdtype(value.dtype, np.floating):
        num_bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
        if num_bad:
            report(field, f'contains {num_bad} NaN/inf value(s)')
    return value.shape


def check_sample(anno: Any,
                 index: int,
                 file: str,
                 num_classes: Optional[int] = None) -> List[AnnotationProblem]:
    """All problems of one annotation.

    Args:
        anno: The annotation (should be a dict).
        index (int): Its position in ``annotations``.
        file (str): The file name used in messages.
        num_classes (int, optional): If given, labels must be below it.

    Returns:
        list[AnnotationProblem]: Empty when the annotation is valid.
    """
    problems: List[AnnotationProblem] = []
    sample_id = anno.get('frame_dir') if isinstance(anno, dict) else None
    sample_id = None if sample_id is None else str(sample_id)

    def report(field: Optional[str], message: str) -> None:
        problems.append(
            AnnotationProblem(file, message, index, sample_id, field))

    if not isinstance(anno, dict):
        report(None, f'must be a dict, got {type(anno).__name__}')
        return problems
    for field in REQUIRED_FIELDS:
        if field not in anno:
            report(field, 'is missing')

    if 'frame_dir' in anno and not isinstance(anno['frame_dir'], str):
        report('frame_dir', 'must be a str, got '
               f'{type(anno["frame_dir"]).__name__}')
    label = anno.get('label')
    if 'label' in anno:
        if isinstance(label, (bool, np.bool_)) or not isinstance(
                label, Integral):
            report('label', f'must be an integer, got {label!r} '
                   f'({type(label).__name__})')
        elif label < 0:
            report('label', f'must be >= 0, got {label}')
        elif num_classes is not None and label >= num_classes:
            report('label', f'must be < num_classes={num_classes}, '
                   f'got {label}')

    kp_shape = None
    if 'keypoint' in anno:
        kp_shape = _array_problems(anno['keypoint'], 'keypoint', 4, report)
        if kp_shape is not None and kp_shape[-1] not in (2, 3):
            report('keypoint', 'last axis (C) must be 2 or 3, got shape '
                   f'{kp_shape} (M, T, V, C)')
    kp = anno.get('keypoint')
    if kp_shape is not None and 0 not in kp_shape and np.issubdtype(
            kp.dtype, np.number) and not np.any(kp):
        report('keypoint', 'is all zeros: an empty clip (no person in any '
               'frame)')
    if 'img_shape' in anno and not _is_shape(anno['img_shape']):
        report('img_shape', 'must be (height, width) of positive integers, '
               f'got {anno["img_shape"]!r}')
    if 'keypoint_score' in anno:
        sc_shape = _array_problems(anno['keypoint_score'], 'keypoint_score',
                                   3, report)
        if kp_shape is not None and sc_shape is not None \
                and sc_shape != kp_shape[:3]:
            report('keypoint_score', f'shape {sc_shape} does not match '
                   f'keypoint (M, T, V) = {kp_shape[:3]}')

    total = anno.get('total_frames')
    if 'total_frames' in anno:
        if isinstance(total, (bool, np.bool_)) or not isinstance(
                total, Integral) or total < 1:
            report('total_frames', f'must be a positive integer, got '
                   f'{total!r}')
        elif kp_shape is not None and kp_shape[1] != total:
            report('total_frames', f'is {total} but keypoint has '
                   f'{kp_shape[1]} frames (shape {kp_shape})')
    return problems


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, Integral) and not isinstance(v, (bool, np.bool_))
        and v > 0 for v in value)


def _split_problems(split: Any, file: str, names: Sequence[str],
                    known_ids: set) -> List[AnnotationProblem]:
    """Problems of the split lists ``names`` (all already present)."""
    problems = []
    for name in names:
        ids = split[name]
        if not isinstance(ids, (list, tuple, set, frozenset, np.ndarray)):
            problems.append(AnnotationProblem(
                file, f'split {name!r} must be a list of ids, got '
                f'{type(ids).__name__}', field='split'))
            continue
        missing = [i for i in ids if i not in known_ids]
        if missing:
            problems.append(AnnotationProblem(
                file, f'split {name!r} lists {len(missing)} id(s) that are '
                f'not in annotations, e.g. {missing[:NUM_IDS_QUOTED]}',
                field='split'))
    return problems


def check_annotations(data: Any,
                      file: str = '<annotations>',
                      split: Optional[str] = None,
                      num_classes: Optional[int] = None
                      ) -> List[AnnotationProblem]:
    """All problems of a loaded annotation file.

    Per-sample checks cover the samples of ``split`` when one is requested
    (the ones a dataset would use) and every sample otherwise; ids are
    checked for duplicates over all samples. Without a requested split,
    every split list in the file is checked against the annotations.

    Args:
        data: What ``mmengine.load`` returned for the file.
        file (str): File name used in the messages.
        split (str, optional): The split that will be used.
        num_classes (int, optional): Labels must lie in
            ``[0, num_classes)``.

    Returns:
        list[AnnotationProblem]: Empty when the file is valid.
    """
    def top(message: str, field: Optional[str] = None) -> AnnotationProblem:
        return AnnotationProblem(file, message, field=field)

    split_dict: Optional[Dict] = None
    if isinstance(data, dict):
        if 'annotations' not in data:
            return [top(f'top-level dict has no {"annotations"!r} key '
                        f'(keys: {sorted(map(str, data))})', 'annotations')]
        annotations = data['annotations']
        if 'split' in data:
            split_dict = data['split']
        elif split is not None:
            return [top(f'split {split!r} requested but the file has no '
                        f'{"split"!r} key', 'split')]
    elif isinstance(data, (list, tuple)):
        if split is not None:
            return [top(f'split {split!r} requested but the file holds a '
                        'bare list of annotations (no split)', 'split')]
        annotations = data
    else:
        return [top('top level must be dict(split=..., annotations=[...]) '
                    f'or a list of annotations, got {type(data).__name__}')]

    if not isinstance(annotations, (list, tuple)):
        return [top('must be a list of annotation dicts, got '
                    f'{type(annotations).__name__}', 'annotations')]
    if split_dict is not None and not isinstance(split_dict, dict):
        return [top(f'must be a dict of id lists, got '
                    f'{type(split_dict).__name__}', 'split')]

    problems: List[AnnotationProblem] = []
    key = sample_identifier(annotations)
    first_index: Dict[Any, int] = {}
    for i, anno in enumerate(annotations):
        if not isinstance(anno, dict) or key not in anno:
            continue
        sid = anno[key]
        try:
            j = first_index.setdefault(sid, i)
        except TypeError:  # unhashable id, reported by check_sample
            continue
        if j != i:
            problems.append(AnnotationProblem(
                file, f'duplicated id {sid!r} (first at annotations[{j}])',
                i, str(anno.get('frame_dir', sid)), key))

    selected = range(len(annotations))
    if split_dict is not None:
        if split is not None and split not in split_dict:
            problems.append(top(
                f'split {split!r} not found; available: '
                f'{sorted(map(str, split_dict))}', 'split'))
            return problems
        names = list(split_dict) if split is None else [split]
        problems += _split_problems(split_dict, file, names,
                                    set(first_index))
        if split is not None and isinstance(split_dict[split],
                                            (list, tuple, set, frozenset,
                                             np.ndarray)):
            wanted = set(split_dict[split])
            selected = [i for i, a in enumerate(annotations)
                        if isinstance(a, dict) and _safe_in(a.get(key),
                                                            wanted)]
    for i in selected:
        problems += check_sample(annotations[i], i, file, num_classes)
    return problems


def _safe_in(value: Any, container: set) -> bool:
    try:
        return value in container
    except TypeError:
        return False


def format_problems(problems: Sequence[AnnotationProblem],
                    max_listed: int = 20) -> str:
    """One problem a line, at most ``max_listed`` of them."""
    lines = [f'  - {p}' for p in problems[:max_listed]]
    if len(problems) > max_listed:
        lines.append(f'  ... and {len(problems) - max_listed} more')
    return '\n'.join(lines)


def assert_valid_annotations(data: Any,
                             file: str = '<annotations>',
                             split: Optional[str] = None,
                             num_classes: Optional[int] = None,
                             max_listed: int = 20) -> None:
    """Raise :class:`AnnotationError` if :func:`check_annotations` finds
    anything; the message names the file and lists up to ``max_listed``
    problems, the exception's ``problems`` holds them all."""
    problems = check_annotations(data, file, split, num_classes)
    if problems:
        raise AnnotationError(
            f'{len(problems)} problem(s) in annotation file {file}:\n'
            f'{_label_summary(data, problems, num_classes)}'
            f'{format_problems(problems, max_listed)}', problems)


def _label_summary(data: Any, problems: Sequence[AnnotationProblem],
                   num_classes: Optional[int]) -> str:
    """One line on labels beyond ``num_classes`` and the fix; ``''``
    when no label is too large."""
    if num_classes is None or not any(
            p.field == 'label' and 'num_classes' in str(p) for p in problems):
        return ''
    annotations = data.get('annotations') if isinstance(data, dict) else data
    labels = [a['label'] for a in annotations
              if isinstance(a, dict) and isinstance(a.get('label'), Integral)]
    low, high = min(labels), max(labels)
    return (f'  labels {low}-{high} in the file, the config expects '
            f'{num_classes} classes: set num_classes={high + 1} on the '
            f'datasets and heads (tools/train.py / test.py --num-classes '
            f'{high + 1}), or relabel the file to 0-{num_classes - 1}\n')


def select_split(data: Any,
                 split: Optional[str] = None,
                 file: str = '<annotations>') -> List[dict]:
    """The annotations of ``split`` (all of them when ``split`` is None),
    in file order, as a new list of the same (unmodified) dicts.

    Raises:
        AnnotationError: If the split is requested but absent (the message
            lists the available names) or the top level is malformed.
    """
    if isinstance(data, dict) and 'annotations' in data:
        annotations = data['annotations']
        split_dict = data.get('split')
    elif isinstance(data, (list, tuple)):
        annotations, split_dict = data, None
    else:
        raise AnnotationError(
            f'{file}: top level must be dict(split=..., annotations=[...]) '
            f'or a list of annotations, got {type(data).__name__}')
    if split is None:
        return list(annotations)
    if not isinstance(split_dict, dict):
        raise AnnotationError(
            f'{file}: split {split!r} requested but the file has no split '
            'dict (a bare list or a dict without a "split" key)')
    if split not in split_dict:
        raise AnnotationError(
            f'{file}: split {split!r} not found; available: '
            f'{sorted(map(str, split_dict))}')
    wanted = set(split_dict[split])
    key = sample_identifier(annotations)
    return [a for a in annotations
            if isinstance(a, dict) and _safe_in(a.get(key), wanted)]
