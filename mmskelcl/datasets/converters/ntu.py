"""NTU RGB+D 60 / 120 raw ``.skeleton`` files to the pickle.

Sample names are ``SsssCcccPpppRrrrAaaa`` (setup, camera, performer,
replication, action). The label is ``action - 1``. Benchmarks and their
official splits (Shahroudy et al., CVPR 2016; Liu et al., TPAMI 2019; the
lists are the ones of PySKL's ``ntu_preproc.py`` and the CTR-GCN family's
``ntu_gendata.py`` / ``ntu120_gendata.py``):

* ``ntu60``: setups 1-17, actions 1-60. ``xsub_train`` are the samples of
  :data:`NTU60_TRAIN_SUBJECTS`, ``xsub_val`` the other 20 subjects;
  ``xview_train`` cameras 2 and 3, ``xview_val`` camera 1.
* ``ntu120``: all setups (1-32) and actions (1-120). ``xsub_train`` are the
  samples of :data:`NTU120_TRAIN_SUBJECTS` (the 20 above plus 33 of the new
  subjects); ``xset_train`` the even setup ids, ``xset_val`` the odd ones.

Samples on the published lists of missing or corrupted skeletons
(``NTU_RGBD_samples_with_missing_skeletons.txt``, 302 samples, and
``NTU_RGBD120_samples_with_missing_skeletons.txt``, 535 samples, both in
the ``Matlab/`` folder of https://github.com/shahroudy/NTURGB-D) are
skipped when the lists are given; files without any tracked body are
skipped in any case and reported. Bodies are chosen as described in
:mod:`.ntu_skeleton`. Keypoints are float32 metres, (M, T, 25, 3), M <= 2.
"""
import os
import os.path as osp
import re
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..class_names import NTU120_CLASSES
from ..validation import assert_valid_annotations
from ._io import (ResumeCache, atomic_dump, ensure_parent, file_signature,
                  run_resumable)
from .ntu_skeleton import MAX_BODIES, parse_skeleton, select_bodies

NAME_RE = re.compile(r'S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})')
NTU60_TRAIN_SUBJECTS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35,
     38))
NTU120_TRAIN_SUBJECTS = NTU60_TRAIN_SUBJECTS | frozenset(
    (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81,
     82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103))
NTU60_TRAIN_CAMERAS = frozenset((2, 3))
BENCHMARKS = {'ntu60': dict(max_setup=17, max_action=60),
              'ntu120': dict(max_setup=32, max_action=120)}
CACHE_VERSION = 1


def parse_name(name: str) -> Dict[str, int]:
    """``'S001C002P003R002A013'`` -> dict(setup, camera, subject,
    replication, action); raises ValueError naming ``name``."""
    m = NAME_RE.fullmatch(name)
    if m is None:
        raise ValueError(f'{name!r} is not an NTU sample name '
                         '(SsssCcccPpppRrrrAaaa)')
    keys = ('setup', 'camera', 'subject', 'replication', 'action')
    return dict(zip(keys, map(int, m.groups())))


def split_of(name: str, benchmark: str) -> Dict[str, str]:
    """Which side of each protocol the sample is on, e.g.
    ``{'xsub': 'train', 'xview': 'val'}``."""
    info = parse_name(name)
    if benchmark == 'ntu60':
        return dict(
            xsub='train' if info['subject'] in NTU60_TRAIN_SUBJECTS
            else 'val',
            xview='train' if info['camera'] in NTU60_TRAIN_CAMERAS
            else 'val')
    if benchmark == 'ntu120':
        return dict(
            xsub='train' if info['subject'] in NTU120_TRAIN_SUBJECTS
            else 'val',
            xset='train' if info['setup'] % 2 == 0 else 'val')
    raise ValueError(f'unknown benchmark {benchmark!r}; known: '
                     f'{sorted(BENCHMARKS)}')


def in_benchmark(name: str, benchmark: str) -> bool:
    """Whether a sample belongs to ``benchmark`` (setup and action range)."""
    info, limits = parse_name(name), BENCHMARKS[benchmark]
    return info['setup'] <= limits['max_setup'] \
        and info['action'] <= limits['max_action']


def read_missing_lists(files: Iterable[str]) -> Set[str]:
    """Sample names of the published missing-skeleton lists.

    Every ``SsssCcccPpppRrrrAaaa`` token counts (with or without a
    ``.skeleton`` suffix); the lists' header sentences are ignored.
    """
    names: Set[str] = set()
    for path in files:
        if not osp.isfile(path):
            raise FileNotFoundError(f'missing-samples list not found: {path}')
        with open(path, encoding='utf-8', errors='replace') as f:
            names.update(m.group(0) for m in NAME_RE.finditer(f.read()))
    return names


def load_sample(path: str, max_bodies: int = MAX_BODIES) -> Optional[dict]:
    """One ``.skeleton`` file as an annotation, or None without bodies."""
    name = osp.basename(path)[:-len('.skeleton')]
    bodies = parse_skeleton(path)
    if not bodies:
        return None
    keypoint = select_bodies(bodies, max_bodies)
    return dict(frame_dir=name, label=parse_name(name)['action'] - 1,
                total_frames=int(keypoint.shape[1]), keypoint=keypoint)


def list_samples(src_dir: str) -> List[str]:
    """Sorted sample names of the ``*.skeleton`` files in ``src_dir``."""
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'NTU skeleton directory not found: '
                                f'{src_dir}')
    names = sorted(n[:-9] for n in os.listdir(src_dir)
                   if n.endswith('.skeleton'))
    bad = [n for n in names if NAME_RE.fullmatch(n) is None]
    if bad:
        raise ValueError(f'{src_dir}: {len(bad)} file(s) are not named '
                         f'SsssCcccPpppRrrrAaaa.skeleton, e.g. '
                         f'{bad[0]}.skeleton')
    if not names:
        raise FileNotFoundError(f'no *.skeleton files in {src_dir}')
    return names


def make_splits(names: Sequence[str], benchmark: str) -> Dict[str, list]:
    """The benchmark's official split lists over ``names`` (in order)."""
    protocols = ('xsub', 'xview') if benchmark == 'ntu60' else ('xsub',
                                                                'xset')
    split = {f'{p}_{side}': [] for p in protocols for side in ('train',
                                                               'val')}
    for name in names:
        for protocol, side in split_of(name, benchmark).items():
            split[f'{protocol}_{side}'].append(name)
    return split


def convert_ntu(src_dir: str,
                out_file: str,
                benchmark: str = 'ntu60',
                missing_files: Sequence[str] = (),
                max_bodies: int = MAX_BODIES,
                resume: bool = True,
                save_every: int = 500,
                progress: bool = True) -> Tuple[dict, Dict[str, list]]:
    """Convert the ``*.skeleton`` files of ``benchmark`` in ``src_dir``.

    Parsed samples are cached in ``out_file + '.partial/'`` (chunks of
    ``save_every``), so a killed run resumes without re-reading them; the
    output is written atomically and the cache removed.

    Returns:
        tuple: ``dict(split, annotations)`` and the skipped samples,
        ``dict(listed=[...], no_body=[...])``.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f'unknown benchmark {benchmark!r}; known: '
                         f'{sorted(BENCHMARKS)}')
    src_dir = osp.abspath(src_dir)
    names = [n for n in list_samples(src_dir) if in_benchmark(n, benchmark)]
    if not names:
        raise FileNotFoundError(f'no {benchmark} samples in {src_dir}')
    missing = read_missing_lists(missing_files)
    skipped = dict(listed=[n for n in names if n in missing], no_body=[])
    names = [n for n in names if n not in missing]
    ensure_parent(out_file)
    cache = ResumeCache(
        out_file + '.partial',
        dict(version=CACHE_VERSION, src_dir=src_dir, max_bodies=max_bodies),
        resume=resume, save_every=save_every, layout='chunks')

    def path(name: str) -> str:
        return osp.join(src_dir, name + '.skeleton')

    items = run_resumable(
        ((n, file_signature(path(n))) for n in names),
        lambda n: load_sample(path(n), max_bodies), cache,
        desc=benchmark.upper(), unit='file', progress=progress)
    skipped['no_body'] = [n for n in names if items[n] is None]
    names = [n for n in names if items[n] is not None]
    data = dict(split=make_splits(names, benchmark),
                annotations=[items[n] for n in names],
                classes=list(NTU120_CLASSES[:BENCHMARKS[benchmark]
                                            ['max_action']]))
    assert_valid_annotations(
        data, file=out_file,
        num_classes=BENCHMARKS[benchmark]['max_action'])
    atomic_dump(data, out_file)
    cache.discard()
    return data, skipped
