"""2D skeleton extraction from videos (PySKL's recipe, with tracking).

Per video: read frames -> person boxes (ground truth, or the estimator's
detector filtered by score >= 0.7 and area >= 1600 as PySKL) -> top-down
pose of each box -> track identities -> time-aligned annotation
(:mod:`.assemble`). Over a video list: labels from ``path label`` lines,
splits from a split file, a progress bar, a resume cache of finished videos
(``OUT.partial/``) and an atomic write of ``dict(split, annotations)``.
"""
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..converters._io import (ResumeCache, atomic_dump, ensure_parent,
                              file_signature, run_resumable)
from ..validation import check_annotations, format_problems
from .assemble import TrackRecorder, is_empty, make_annotation
from .boxes import (DET_AREA_THR, DET_SCORE_THR, FrameBoxes, filter_boxes,
                    load_box_file)
from .estimator import PoseEstimator
from .tracker import PoseTracker
from .video import read_frames, video_id

CACHE_VERSION = 1
VideoEntry = Tuple[str, Optional[int]]


def read_video_list(path: str) -> List[VideoEntry]:
    """Lines ``VIDEO_PATH [LABEL]`` (all with or all without a label);
    relative paths are relative to the list's folder."""
    root = osp.dirname(osp.abspath(path))
    entries: List[VideoEntry] = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith('#'):
                continue
            if len(parts) > 2 or (len(parts) == 2
                                  and not parts[1].lstrip('-').isdigit()):
                raise ValueError(f'{path}: line {lineno}: expected '
                                 f'"VIDEO_PATH [LABEL]", got {line.strip()!r}')
            label = int(parts[1]) if len(parts) == 2 else None
            if label is not None and label < 0:
                raise ValueError(f'{path}: line {lineno}: negative label')
            entries.append((osp.join(root, parts[0]), label))
    if not entries:
        raise ValueError(f'{path}: no video listed')
    if len({label is None for _, label in entries}) > 1:
        raise ValueError(f'{path}: either every line has a label or none')
    ids = [video_id(p) for p, _ in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f'{path}: videos share the id (base name) {dup[0]!r}')
    return entries


def read_split_file(path: str) -> Dict[str, List[str]]:
    """A json dict ``split -> [video id]``, or text lines ``VIDEO_ID
    SPLIT`` (the id is the video's base name without extension)."""
    if path.endswith('.json'):
        with open(path, encoding='utf-8') as f:
            split = json.load(f)
        if not isinstance(split, dict) or not all(
                isinstance(v, list) for v in split.values()):
            raise ValueError(f'{path}: must be a json dict split -> [ids]')
        return {str(k): [str(i) for i in v] for k, v in split.items()}
    split: Dict[str, List[str]] = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith('#'):
                continue
            if len(parts) != 2:
                raise ValueError(f'{path}: line {lineno}: expected '
                                 f'"VIDEO_ID SPLIT", got {line.strip()!r}')
            split.setdefault(parts[1], []).append(video_id(parts[0]))
    return split


def extract_video(path: str, estimator: PoseEstimator,
                  gt_boxes: Optional[FrameBoxes] = None,
                  det_score_thr: float = DET_SCORE_THR,
                  det_area_thr: float = DET_AREA_THR,
                  max_persons: int = 2,
                  tracker: Optional[PoseTracker] = None,
                  label: Optional[int] = None) -> dict:
    """The annotation of one video (see the module doc)."""
    tracker = PoseTracker() if tracker is None else tracker
    recorder = TrackRecorder(estimator.num_keypoints)
    num_frames, img_shape = 0, None
    for t, frame in enumerate(read_frames(path)):
        num_frames, img_shape = t + 1, frame.shape[:2]
        if gt_boxes is not None:
            boxes = gt_boxes(t)
        else:
            boxes = filter_boxes(estimator.detect(frame), det_score_thr,
                                 det_area_thr)
        if len(boxes):
            keypoints, scores = estimator.estimate(frame, boxes)
            try:
                ids = tracker.update(t, boxes, keypoints, scores)
                recorder.add(t, ids, keypoints, scores)
            except (ValueError, IndexError) as e:
                raise ValueError(f'{path}: {e}') from e
    if gt_boxes is not None:
        gt_boxes.check_length(num_frames)
    return make_annotation(video_id(path), recorder, num_frames, img_shape,
                           max_persons, label)


def extract_videos(videos: Sequence[VideoEntry],
                   out_file: str,
                   make_estimator: Callable[[], PoseEstimator],
                   gt_box_file: Optional[str] = None,
                   split: Optional[Dict[str, List[str]]] = None,
                   det_score_thr: float = DET_SCORE_THR,
                   det_area_thr: float = DET_AREA_THR,
                   max_persons: int = 2,
                   keep_empty: bool = False,
                   resume: bool = True,
                   save_every: int = 10,
                   progress: bool = True,
                   models: Optional[Sequence[str]] = None
                   ) -> Tuple[dict, List[str]]:
    """Extract every video and write ``out_file``.

    The estimator is built by ``make_estimator`` only when a video needs
    it (a fully cached re-run loads no model). Videos where nobody is found
    are left out (and out of the splits) unless ``keep_empty``. ``models``
    names the backend and its models: a partial cache of a run with other
    models is not resumed.

    Returns:
        tuple: ``dict([split,] annotations)`` and the ids of empty videos.
    """
    gt = load_box_file(gt_box_file) if gt_box_file else None
    ids = {p: video_id(p) for p, _ in videos}
    known = set(ids.values())
    for name, members in (split or {}).items():
        unknown = [i for i in members if i not in known]
        if unknown:
            raise ValueError(f'split {name!r} names {len(unknown)} video(s) '
                             f'not in the video list, e.g. {unknown[:3]}')
    labels = dict(videos)
    estimator: List[PoseEstimator] = []
    options = (gt_box_file and osp.abspath(gt_box_file), det_score_thr,
               det_area_thr, max_persons, tuple(models or ()))

    def work(path: str) -> dict:
        if not estimator:
            estimator.append(make_estimator())
        frame_boxes = None
        if gt is not None:
            if ids[path] not in gt:
                raise KeyError(f'{gt_box_file}: no boxes for video '
                               f'{ids[path]!r} ({path})')
            frame_boxes = FrameBoxes(gt[ids[path]],
                                     f'{gt_box_file}: {ids[path]}')
        return extract_video(path, estimator[0], frame_boxes, det_score_thr,
                             det_area_thr, max_persons)

    ensure_parent(out_file)
    cache = ResumeCache(out_file + '.partial',
                        dict(version=CACHE_VERSION, options=options),
                        resume=resume, save_every=save_every,
                        layout='chunks')
    items = run_resumable(((p, file_signature(p) if osp.isfile(p) else None)
                           for p, _ in videos), work, cache,
                          desc='videos', unit='video', progress=progress)
    annotations = [items[p] if labels[p] is None else
                   dict(items[p], label=labels[p]) for p, _ in videos]
    empty = [a['frame_dir'] for a in annotations if is_empty(a)]
    if not keep_empty:
        annotations = [a for a in annotations if not is_empty(a)]
    data: dict = dict(annotations=annotations)
    if split is not None:
        kept = {a['frame_dir'] for a in annotations}
        data = dict(split={k: [i for i in v if i in kept]
                           for k, v in split.items()}, annotations=annotations)
    problems = [p for p in check_annotations(data, out_file)
                if not (p.field == 'label' and p.message == 'is missing')
                and not (keep_empty and 'empty clip' in p.message)]
    if problems:
        raise ValueError(f'{len(problems)} problem(s) in the extracted '
                         f'annotations:\n{format_problems(problems)}')
    atomic_dump(data, out_file)
    cache.discard()
    return data, empty
