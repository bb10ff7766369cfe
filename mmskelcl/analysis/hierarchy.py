"""Class names and class hierarchies (FineGym's event and set per class).

FineGym's ``gym99_categories.txt`` gives, for each Gym99 class, its label
(``Clabel``), its set id, its global element label (``Glabel``), the event
(``(VT)``, ``(FX)``, ``(BB)``, ``(UB)``) and the element name::

    Clabel:   0; set:  1; Glabel:   1; (VT) round-off, flic-flac with ...
    Clabel:   6; set: 21; Glabel:  67; (FX) switch leap with 0.5 turn

Set ids are unique over events (1 is vault; 21-25 floor, 31-35 beam,
41-44 bars), 14 sets in all for Gym99. :func:`parse_gym_categories` reads
that format into a :class:`ClassHierarchy`; :func:`load_label_map` reads it
too, or MMAction2's plain label maps (one class name per line, line ``i``
is label ``i``).
"""
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Union

_GYM_LINE = re.compile(
    r'^\s*Clabel:\s*(?P<label>\d+)\s*;\s*set:\s*(?P<set>\d+)\s*;'
    r'\s*Glabel:\s*(?P<glabel>\d+)\s*;\s*\((?P<event>[^)]+)\)\s*'
    r'(?P<name>.*?)\s*$')


@dataclass
class ClassHierarchy:
    """Class names and the coarse groups each class belongs to.

    Args:
        class_names (list[str]): Name of each label, label order.
        levels (dict[str, list[str]]): For each level name (e.g.
            ``'event'``, ``'set'``), the group of each label, label order.
    """

    class_names: List[str]
    levels: Dict[str, List[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.class_names)
        for level, groups in self.levels.items():
            if len(groups) != n:
                raise ValueError(f'level {level!r} gives {len(groups)} '
                                 f'groups for {n} classes')

    @property
    def num_classes(self) -> int:
        """int: Number of classes."""
        return len(self.class_names)

    def groups(self, level: str) -> List[str]:
        """Distinct groups of ``level`` in order of first appearance."""
        return list(dict.fromkeys(self.levels[level]))


def _read_lines(source: Union[str, Iterable[str]]) -> List[str]:
    """Lines of a file path or of an iterable of strings."""
    if isinstance(source, str):
        with open(source, encoding='utf-8') as f:
            return f.read().splitlines()
    return [str(line).rstrip('\n') for line in source]


def is_gym_categories(lines: Sequence[str]) -> bool:
    """Whether the non-empty lines are in ``gym99_categories.txt`` format."""
    content = [ln for ln in lines if ln.strip()]
    return bool(content) and all(_GYM_LINE.match(ln) for ln in content)


def parse_gym_categories(
        source: Union[str, Iterable[str]]) -> ClassHierarchy:
    """Parse FineGym's ``gym99_categories.txt`` (or ``gym288``'s).

    Args:
        source (str | Iterable[str]): File path or its lines.

    Returns:
        ClassHierarchy: Names ``'(EV) element'`` and the levels ``event``
        (``'VT'``, ``'FX'``, ...) and ``set`` (``'FX-21'``: event and set
        id, so that set labels also say their event).

    Raises:
        ValueError: A non-empty line that is not in the format, a repeated
            label, or labels that are not ``0..K-1``.
    """
    rows: Dict[int, tuple] = {}
    for num, line in enumerate(_read_lines(source), 1):
        if not line.strip():
            continue
        match = _GYM_LINE.match(line)
        if match is None:
            raise ValueError(f'line {num} is not in gym99_categories.txt '
                             f'format ("Clabel: 0; set: 1; Glabel: 1; (VT) '
                             f'name"): {line!r}')
        label = int(match['label'])
        if label in rows:
            raise ValueError(f'line {num}: Clabel {label} given twice')
        event = match['event'].strip()
        rows[label] = (f'({event}) {match["name"]}', event,
                       f'{event}-{int(match["set"])}')
    if sorted(rows) != list(range(len(rows))):
        missing = sorted(set(range(max(rows, default=-1) + 1)) - set(rows))
        raise ValueError(f'Clabel values must be 0..K-1; missing {missing}')
    ordered = [rows[k] for k in range(len(rows))]
    return ClassHierarchy(
        class_names=[r[0] for r in ordered],
        levels=dict(event=[r[1] for r in ordered],
                    set=[r[2] for r in ordered]))


def load_label_map(source: Union[str, Iterable[str]]) -> List[str]:
    """Class names from a label map file.

    Accepts MMAction2's label maps (one name per line; line ``i`` names
    label ``i``; empty lines at the end are ignored) and FineGym's
    ``gym99_categories.txt``.

    Args:
        source (str | Iterable[str]): File path or its lines.

    Returns:
        list[str]: One name per label.
    """
    lines = _read_lines(source)
    if is_gym_categories(lines):
        return parse_gym_categories(lines).class_names
    while lines and not lines[-1].strip():
        lines.pop()
    if any(not ln.strip() for ln in lines):
        raise ValueError('a label map has one class name per line; found an '
                         'empty line before the end')
    return [ln.strip() for ln in lines]


def check_num_classes(names: Optional[Sequence[str]], num_classes: int,
                      what: str = 'label map') -> None:
    """Raise if ``names`` does not have one entry per class."""
    if names is not None and len(names) != num_classes:
        raise ValueError(f'the {what} names {len(names)} classes but the '
                         f'scores have {num_classes}')
