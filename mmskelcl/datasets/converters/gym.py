"""FineGym Gym99: extracted skeletons + official lists -> the pickle.

Official FineGym v1.1 files (https://sdolivia.github.io/FineGym/):

* ``gym99_train_element_v1.1.txt`` and ``gym99_val_element.txt``: lines
  ``ELEMENT_ID LABEL``, the id ``{video}_E_{eeeeee}_{eeeeee}_A_{aaaa}_{aaaa}``
  (YouTube id, event and element boundaries);
* ``gym99_categories.txt``: lines ``Clabel: 0; set: 1; Glabel: 1; (VT)
  round-off, ...``: the Gym99 label, its set id, its Gym530 label, and the
  event (VT vault, FX floor exercise, BB balance beam, UB uneven bars) with
  the element name.

Skeletons are the output of ``tools/data/extract_2d_skeleton.py`` run on the
element clips (files or folders of ``*.pkl``; a list or
``dict(annotations=...)``). They are matched to the lists by id in either
spelling: FineGym's (above) or PySKL's ``gym_hrnet.pkl`` one, which drops
``_E`` and ``_A`` (``{video}_{eeeeee}_{eeeeee}_{aaaa}_{aaaa}``). Output ids
use ``id_style`` (``'pyskl'`` by default, as the published pickle), splits
``train`` / ``val``, labels from the lists, and ``classes``: one dict per
label with ``name``, ``event``, ``event_name``, ``set`` and ``glabel``, for
per-event analysis.
"""
import os
import os.path as osp
import re
from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence, Tuple

from mmskelcl.utils.safe_pickle import safe_load
from ..validation import assert_valid_annotations
from ._io import (ResumeCache, atomic_dump, ensure_parent, file_signature,
                  run_resumable)

EVENTS = {'VT': 'vault', 'FX': 'floor exercise', 'BB': 'balance beam',
          'UB': 'uneven bars'}
ELEMENT_RE = re.compile(r'^(.+)_E_(\d+)_(\d+)_A_(\d+)_(\d+)$')
CATEGORY_RE = re.compile(r'^\s*Clabel:\s*(\d+)\s*;\s*set:\s*(\d+)\s*;\s*'
                         r'Glabel:\s*(\d+)\s*;\s*\((\w+)\)\s*(.*?)\s*$')
ID_STYLES = ('pyskl', 'finegym')
CACHE_VERSION = 1


class GymFormatError(ValueError):
    """A FineGym list, category file or skeleton file is malformed."""


@dataclass(frozen=True)
class GymClass:
    """One Gym99 class."""
    label: int
    set: int
    glabel: int
    event: str
    event_name: str
    name: str


def pyskl_id(element_id: str) -> str:
    """FineGym's element id in PySKL's spelling (other ids unchanged)."""
    m = ELEMENT_RE.match(element_id)
    return element_id if m is None else '_'.join(m.groups())


def read_element_list(path: str) -> Dict[str, int]:
    """``ELEMENT_ID LABEL`` lines as ``{id: label}`` (file order)."""
    out: Dict[str, int] = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or not parts[1].isdigit():
                raise GymFormatError(f'{path}: line {lineno}: expected '
                                     f'"ELEMENT_ID LABEL", got '
                                     f'{line.strip()!r}')
            if parts[0] in out:
                raise GymFormatError(f'{path}: line {lineno}: {parts[0]} is '
                                     'listed twice')
            out[parts[0]] = int(parts[1])
    return out


def read_categories(path: str) -> List[GymClass]:
    """The category file as classes ordered by label (0..K-1)."""
    classes: Dict[int, GymClass] = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            m = CATEGORY_RE.match(line)
            if m is None or m.group(4) not in EVENTS:
                raise GymFormatError(
                    f'{path}: line {lineno}: expected "Clabel: N; set: N; '
                    f'Glabel: N; (VT|FX|BB|UB) name", got {line.strip()!r}')
            label = int(m.group(1))
            if label in classes:
                raise GymFormatError(f'{path}: line {lineno}: Clabel {label} '
                                     'is defined twice')
            classes[label] = GymClass(label, int(m.group(2)),
                                      int(m.group(3)), m.group(4),
                                      EVENTS[m.group(4)], m.group(5))
    if sorted(classes) != list(range(len(classes))):
        raise GymFormatError(f'{path}: Clabels must be 0..{len(classes) - 1}'
                             f' without gaps, got {sorted(classes)[:5]}...')
    return [classes[i] for i in range(len(classes))]


def skeleton_files(sources: Sequence[str]) -> List[str]:
    """Pickle files given directly or found (``*.pkl``) in folders."""
    files: List[str] = []
    for src in sources:
        if osp.isdir(src):
            files += sorted(osp.join(src, n) for n in os.listdir(src)
                            if n.endswith(('.pkl', '.pickle')))
        elif osp.isfile(src):
            files.append(src)
        else:
            raise FileNotFoundError(f'skeleton file or folder not found: '
                                    f'{src}')
    if not files:
        raise FileNotFoundError(f'no skeleton pickle in {list(sources)}')
    return list(dict.fromkeys(osp.abspath(f) for f in files))  # no repeats


def load_skeleton_file(path: str) -> List[dict]:
    """The annotations of one extractor output file."""
    data = safe_load(path)
    annos = data.get('annotations') if isinstance(data, dict) else data
    if not isinstance(annos, list) or not all(
            isinstance(a, dict) and 'frame_dir' in a for a in annos):
        raise GymFormatError(f'{path}: expected a list of annotations with '
                             '"frame_dir" (or a dict with "annotations")')
    return annos


def convert_gym(skeletons: Sequence[str], train_list: str, val_list: str,
                categories: str, out_file: str, id_style: str = 'pyskl',
                strict: bool = False, resume: bool = True,
                progress: bool = True) -> Tuple[dict, List[str]]:
    """Assemble the Gym99 pickle; see the module doc.

    Listed elements without a skeleton are left out and returned (an error
    with ``strict``); skeletons of unlisted elements are ignored.

    Returns:
        tuple: ``dict(split, annotations, classes)`` and the missing ids.
    """
    if id_style not in ID_STYLES:
        raise ValueError(f'id_style must be one of {ID_STYLES}, got '
                         f'{id_style!r}')
    classes = read_categories(categories)
    lists = dict(train=read_element_list(train_list),
                 val=read_element_list(val_list))
    both = set(map(pyskl_id, lists['train'])) & set(map(pyskl_id,
                                                        lists['val']))
    if both:
        raise GymFormatError(f'{len(both)} element(s) are in both {train_list}'
                             f' and {val_list}, e.g. {sorted(both)[0]}')
    for name, path in (('train', train_list), ('val', val_list)):
        bad = {e: y for e, y in lists[name].items() if y >= len(classes)}
        if bad:
            e = next(iter(bad))
            raise GymFormatError(f'{path}: {e} has label {bad[e]}, but '
                                 f'{categories} defines {len(classes)} '
                                 'classes')
    files = skeleton_files(skeletons)
    ensure_parent(out_file)
    cache = ResumeCache(out_file + '.partial', dict(version=CACHE_VERSION),
                        resume=resume, save_every=1, layout='chunks')
    loaded = run_resumable(((f, file_signature(f)) for f in files),
                           load_skeleton_file, cache, desc='FineGym',
                           unit='file', progress=progress)
    by_id: Dict[str, dict] = {}
    for path, annos in loaded.items():
        for anno in annos:
            key = pyskl_id(anno['frame_dir'])
            if key in by_id:
                raise GymFormatError(f'{path}: skeleton {anno["frame_dir"]} '
                                     'also appears in another file')
            by_id[key] = anno
    split: Dict[str, List[str]] = {'train': [], 'val': []}
    annotations, missing = [], []
    for name, elements in lists.items():
        for element, label in elements.items():
            anno = by_id.get(pyskl_id(element))
            if anno is None:
                missing.append(element)
                continue
            sid = pyskl_id(element) if id_style == 'pyskl' else element
            annotations.append(dict(anno, frame_dir=sid, label=label))
            split[name].append(sid)
    if missing and strict:
        raise GymFormatError(f'{len(missing)} listed element(s) have no '
                             f'skeleton, e.g. {missing[:3]}')
    data = dict(split=split, annotations=annotations,
                classes=[asdict(c) for c in classes])
    assert_valid_annotations(data, file=out_file, num_classes=len(classes))
    atomic_dump(data, out_file)
    cache.discard()
    return data, missing
