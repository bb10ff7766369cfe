"""Reader of NTU RGB+D Kinect v2 ``.skeleton`` files and body selection.

File format (the dataset's ``read_skeleton_file.m``), one value group a
line::

    T                                   # number of recorded frames
    then T times:
      B                                 # bodies tracked in this frame
      then B times:
        bodyID clippedEdges handLeftConfidence handLeftState
            handRightConfidence handRightState isRestricted leanX leanY
            trackingState               # 10 values
        25                              # number of joints
        25 lines: x y z depthX depthY colorX colorY
                  orientationW orientationX orientationY orientationZ
                  trackingState         # 12 values; x y z in metres

Joints are kept in the file's (Kinect v2) order, which is the
``'nturgb+d'`` layout.

**Body selection** (:func:`select_bodies`). Kinect often tracks more bodies
than there are actors (noise, passers-by, an actor re-detected under a new
id). As the common preprocessing (PySKL ``ntu_preproc.py``; CTR-GCN's
``get_raw_denoised_data.py`` uses the same thresholds):

1. Frames in which no body is tracked are dropped (so T counts frames with
   at least one body).
2. With several bodies, bodies tracked for at most ``LENGTH_THRESHOLD``
   (11) frames are dropped, and so are bodies whose frames are mostly
   "spread" noise: a frame is noise when the x-extent of the body exceeds
   ``SPREAD_RATIO`` (0.8) times its y-extent, and a body with a noise
   fraction of at least ``NOISE_RATIO`` (0.69754) is dropped. Neither step
   drops the last remaining body.
3. The rest are ranked by **motion**: the summed variance of the x, y and z
   coordinates of all its joints over its frames (over its non-noise
   frames if that is smaller).
4. In that order each body goes to the first of the two person slots in
   which none of its frames is already taken; a body that fits no slot is
   dropped. So the two most moving bodies are the two actors, and a body
   that replaces a lost track in time is appended to it.
5. Leading and trailing frames with both slots empty are cut; an empty
   second slot is dropped (``M = 1``); if the first slot is empty in the
   first frame while the second is not, the slots are swapped.
"""
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

NUM_JOINTS = 25
NUM_BODY_VALUES = 10
NUM_JOINT_VALUES = 12
LENGTH_THRESHOLD = 11
SPREAD_RATIO = 0.8
NOISE_RATIO = 0.69754
MAX_BODIES = 2


class NTUFormatError(ValueError):
    """A ``.skeleton`` file does not follow the NTU text format."""


@dataclass
class Body:
    """One tracked body: the (kept) frames it appears in and its joints."""
    body_id: str
    frames: List[int] = field(default_factory=list)
    joints: List[np.ndarray] = field(default_factory=list)

    def array(self) -> np.ndarray:
        """Joints as (n, 25, 3) float32."""
        return np.stack(self.joints).astype(np.float32)


def parse_skeleton(path: str) -> Dict[str, Body]:
    """Bodies of one ``.skeleton`` file, by body id, in order of appearance.

    Frame indices count only frames with at least one body.

    Raises:
        NTUFormatError: Naming the file and line of the first problem.
    """
    with open(path, encoding='ascii', errors='replace') as f:
        lines = [(i, s.split()) for i, s in enumerate(f, 1) if s.strip()]
    pos = 0

    def take(num: int, what: str) -> List[str]:
        nonlocal pos
        if pos >= len(lines):
            raise NTUFormatError(f'{path}: file ends early, expected {what}')
        lineno, values = lines[pos]
        if len(values) != num:
            raise NTUFormatError(f'{path}: line {lineno}: expected {what} '
                                 f'({num} values), got {len(values)}')
        pos += 1
        return values

    def count(what: str) -> int:
        lineno = lines[pos][0] if pos < len(lines) else '<eof>'
        value = take(1, what)[0]
        try:
            number = int(value)
        except ValueError:
            number = -1
        if number < 0:
            raise NTUFormatError(f'{path}: line {lineno}: {what} must be a '
                                 f'non-negative integer, got {value!r}')
        return number

    bodies: Dict[str, Body] = {}
    kept = 0
    for _ in range(count('the frame count')):
        num_bodies = count('a body count')
        for _ in range(num_bodies):
            body_id = take(NUM_BODY_VALUES, 'a body info line')[0]
            lineno = lines[pos][0] if pos < len(lines) else '<eof>'
            num_joints = count('a joint count')
            if num_joints != NUM_JOINTS:
                raise NTUFormatError(f'{path}: line {lineno}: body '
                                     f'{body_id} has {num_joints} joints, '
                                     f'expected {NUM_JOINTS}')
            start = lines[pos][0]
            rows = [take(NUM_JOINT_VALUES, 'a joint line')[:3]
                    for _ in range(NUM_JOINTS)]
            try:
                xyz = np.asarray(rows, dtype=np.float64)
            except ValueError as e:
                raise NTUFormatError(f'{path}: lines {start}-{start + 24}: '
                                     f'non-numeric joint ({e})') from e
            if not np.isfinite(xyz).all():
                raise NTUFormatError(f'{path}: lines {start}-{start + 24}: '
                                     'NaN/inf joint coordinates')
            body = bodies.setdefault(body_id, Body(body_id))
            body.frames.append(kept)
            body.joints.append(xyz)
        kept += num_bodies > 0
    if pos != len(lines):
        raise NTUFormatError(f'{path}: line {lines[pos][0]}: unexpected '
                             'content after the last frame')
    return bodies


def _motion(joints: np.ndarray) -> float:
    return float(np.var(joints.reshape(-1, 3), axis=0).sum())


def _noise_frames(joints: np.ndarray) -> np.ndarray:
    extent = joints.max(axis=1) - joints.min(axis=1)  # (n, 3)
    return extent[:, 0] > SPREAD_RATIO * extent[:, 1]


def rank_bodies(bodies: Dict[str, Body]) -> List[Body]:
    """Denoised bodies, most moving first (steps 2-3 of the module doc)."""
    candidates = list(bodies.values())
    if len(candidates) > 1:
        long = [b for b in candidates if len(b.frames) > LENGTH_THRESHOLD]
        candidates = long or candidates
    motion = {}
    if len(candidates) > 1:
        clean = []
        for body in candidates:
            joints = body.array()
            noise = _noise_frames(joints)
            if noise.mean() < NOISE_RATIO:
                clean.append(body)
                motion[body.body_id] = _motion(joints)
                if noise.any():
                    motion[body.body_id] = min(motion[body.body_id],
                                               _motion(joints[~noise]))
        candidates = clean or candidates
    for body in candidates:
        motion.setdefault(body.body_id, _motion(body.array()))
    return sorted(candidates, key=lambda b: -motion[b.body_id])


def select_bodies(bodies: Dict[str, Body],
                  max_bodies: int = MAX_BODIES) -> np.ndarray:
    """Keypoints (M, T, 25, 3) float32 of the main bodies, M <= max_bodies.

    Raises:
        ValueError: If ``bodies`` is empty (a sample without skeletons).
    """
    if not bodies:
        raise ValueError('no body is tracked in any frame')
    ranked = rank_bodies(bodies)
    num_frames = 1 + max(max(b.frames) for b in ranked)
    keypoint = np.zeros((max_bodies, num_frames, NUM_JOINTS, 3), np.float32)
    taken = np.zeros((max_bodies, num_frames), bool)
    for body in ranked:
        for slot in range(max_bodies):
            if not taken[slot, body.frames].any():
                keypoint[slot, body.frames] = body.array()
                taken[slot, body.frames] = True
                break
    used = np.flatnonzero(taken.any(axis=0))
    keypoint = keypoint[:, used[0]:used[-1] + 1]
    taken = taken[:, used[0]:used[-1] + 1]
    slots = [s for s in range(max_bodies) if taken[s].any()]
    if len(slots) > 1 and not taken[slots[0], 0] and taken[slots[1], 0]:
        slots[0], slots[1] = slots[1], slots[0]
    return keypoint[slots]
