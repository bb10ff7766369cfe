"""A small, deterministic, fine-grained 2D skeleton dataset for demos/tests.

The generator animates a 3D stick figure with the 17 COCO keypoints
(nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles), projects
it orthographically through a randomly placed camera into an image and writes
the result in the PySKL / MMAction2 ``PoseDataset`` pickle format::

    dict(split=dict(train=[frame_dir, ...], val=[frame_dir, ...]),
         annotations=[dict(frame_dir=str, label=int, total_frames=int,
                           img_shape=(h, w), original_shape=(h, w),
                           keypoint=float16 (1, T, 17, 2),       # pixels
                           keypoint_score=float16 (1, T, 17)), ...])

Classes come in PAIRS of near-identical gymnastics-like movements, in the
spirit of FineGym: the two classes of a pair share everything but one
detail, so most of the difficulty (and most of the confusion) lies inside
the pairs. See :data:`PAIRS` for the movements and what separates them.

Nuisance factors: per-subject body proportions and movement style, camera
yaw/pitch, position and scale of the person in images of different sizes,
variable clip length (idle frames before/after the movement), non-linear
speed variation, smooth joint-angle noise, per-joint pixel jitter, score
noise and occasional low-score (mis-detected) joints.

The train/val split is cross-subject: the clips of ``val_subjects`` of the
``num_subjects`` performers form the validation set.

Only numpy is used; the same arguments give a byte-identical pickle.

Example::

    python -m mmskelcl.utils.demo_data data/demo/demo_fine2d.pkl --seed 0
"""
import argparse
import os
import pickle
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'COCO_JOINTS', 'PAIRS', 'class_names', 'generate_demo_dataset',
    'generate_demo_annotations', 'handcrafted_features',
    'evaluate_handcrafted_baseline'
]

COCO_JOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
               'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
               'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
               'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

# Pickle protocol fixed so the bytes do not depend on the Python default.
PICKLE_PROTOCOL = 4

# Image sizes (h, w) the clips are "recorded" at.
_IMG_SHAPES = ((480, 640), (540, 960), (720, 1280), (1080, 1920))

Angles = Dict[str, np.ndarray]

# ---------------------------------------------------------------------------
# Temporal profiles (u is the normalised action phase in [0, 1])
# ---------------------------------------------------------------------------


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """Cubic ease-in/out of ``x`` clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _window(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """A sin^2 bump that is 0 outside ``[a, b]`` and 1 at its centre."""
    x = np.clip((u - a) / (b - a), 0.0, 1.0)
    return np.sin(np.pi * x)**2


def _plateau(u: np.ndarray, a: float, b: float, r: float) -> np.ndarray:
    """Rise over ``[a, a + r]``, hold, fall over ``[b - r, b]``."""
    return _smoothstep((u - a) / r) * (1.0 - _smoothstep((u - b + r) / r))


# ---------------------------------------------------------------------------
# Movement templates. Each returns joint-angle offsets (degrees) added to the
# standing base pose, plus optional 'lift' (pelvis height, body heights).
# ``variant`` (0 or 1) selects the class of the pair; every other random
# draw is shared by both variants so that only the documented detail differs.
# ---------------------------------------------------------------------------


def _jump(u: np.ndarray, variant: int, rng: np.random.Generator,
          gain: float) -> Angles:
    """Straight jump (0) vs stag jump (1): differ in the right leg in flight.

    Both: counter-movement squat with an arm back-swing, take-off, flight
    with the arms overhead, landing squat. The stag jump bends the right
    hip and knee during the flight phase only (~20% of the movement).
    """
    dip = gain * rng.normal(40.0, 5.0)
    land = gain * rng.normal(28.0, 5.0)
    height = rng.uniform(0.09, 0.15)
    t_off = rng.uniform(0.38, 0.44)
    flight = rng.uniform(0.18, 0.24)
    hip = rng.normal(45.0, 8.0)
    knee = rng.normal(75.0, 10.0)
    arms_up = gain * rng.normal(160.0, 8.0)
    in_air = np.sin(np.pi * np.clip((u - t_off) / flight, 0.0, 1.0))
    squat = (
        dip * _window(u, 0.06, t_off) +
        land * _window(u, t_off + flight - 0.02, 0.95))
    arm_e = (-35.0 * _window(u, 0.06, t_off) +
             arms_up * _plateau(u, t_off - 0.05, t_off + flight + 0.08, 0.08))
    out = dict(
        squat=squat,
        lift=height * in_air,
        l_arm_e=arm_e,
        r_arm_e=arm_e,
        l_arm_a=-70.0 * _plateau(u, 0.0, t_off, 0.1),
        r_arm_a=-70.0 * _plateau(u, 0.0, t_off, 0.1))
    if variant == 1:
        tuck = _plateau(u, t_off + 0.02, t_off + flight - 0.01, 0.05)
        out['r_hip_f'] = hip * tuck
        out['r_knee'] = knee * tuck
    return out


def _turn(u: np.ndarray, variant: int, rng: np.random.Generator,
          gain: float) -> Angles:
    """Half turn to the left (0) vs to the right (1) in passe position.

    Both: arms rise to a forward crown, the right foot comes to the left
    knee (passe) and the body turns 180 degrees, ending with its back to
    the camera. In the image the two only differ through the joints that
    stick out of the body plane (face, forward arms, passe knee).
    """
    t0 = rng.uniform(0.22, 0.30)
    dur = rng.uniform(0.40, 0.50)
    turn = rng.normal(180.0, 12.0) * _smoothstep((u - t0) / dur)
    crown = _plateau(u, 0.05, 0.9, 0.12)
    passe = _plateau(u, t0 - 0.08, t0 + dur + 0.08, 0.08)
    return dict(
        yaw=turn if variant == 0 else -turn,
        l_arm_e=gain * 100.0 * crown,
        r_arm_e=gain * 100.0 * crown,
        l_arm_a=-45.0 * crown,
        r_arm_a=-45.0 * crown,
        l_elbow=35.0 * crown,
        r_elbow=35.0 * crown,
        r_hip_f=gain * 50.0 * passe,
        r_knee=gain * 105.0 * passe,
        r_hip_a=40.0 * passe,
        r_shin_a=-75.0 * passe,
        lift=0.015 * passe)


def _squat_press(u: np.ndarray, variant: int, rng: np.random.Generator,
                 gain: float) -> Angles:
    """Press during the descent (0) vs during the ascent (1) of a squat.

    Both: a deep squat with the arms in the goal-post rack position and one
    overhead press. Only the timing of the press relative to the squat
    differs; time-averaged poses of the two classes are identical.
    """
    depth = gain * rng.normal(75.0, 7.0)
    c = rng.uniform(0.47, 0.53)
    squat = depth * _window(u, 0.08, 0.92)
    press_win = (0.08, c + 0.02) if variant == 0 else (c - 0.02, 0.92)
    press = _window(u, *press_win)
    rack = _plateau(u, 0.0, 1.0, 0.06)
    return dict(
        squat=squat,
        lean=0.45 * squat,
        l_arm_e=gain * (80.0 * rack + 85.0 * press),
        r_arm_e=gain * (80.0 * rack + 85.0 * press),
        l_elbow=80.0 * rack * (1.0 - press),
        r_elbow=80.0 * rack * (1.0 - press))


def _kick(u: np.ndarray, variant: int, rng: np.random.Generator,
          gain: float) -> Angles:
    """Low (0) vs high (1) front kick with the right leg: amplitude.

    Both: guard with the arms, chamber the knee, extend the kick, re-chamber
    and put the foot down. Only the peak hip flexion differs (about 55 vs
    80 degrees, +- 7), so the amplitude distributions overlap a little.
    """
    peak = rng.normal(55.0 if variant == 0 else 80.0, 7.0)
    peak *= 1.0 + 0.05 * (gain - 1.0)
    c = rng.uniform(0.45, 0.55)
    guard = _plateau(u, 0.0, 1.0, 0.12)
    hip = peak * _window(u, 0.18, 0.82)
    knee = 75.0 * (_window(u, 0.18, c) + _window(u, c, 0.82))
    return dict(
        r_hip_f=hip,
        r_knee=knee,
        lean=-0.2 * hip,
        l_arm_e=50.0 * guard,
        r_arm_e=50.0 * guard,
        l_arm_a=-60.0 * guard,
        r_arm_a=-60.0 * guard,
        l_elbow=100.0 * guard,
        r_elbow=100.0 * guard)


def _arm_circle(u: np.ndarray, variant: int, rng: np.random.Generator,
                gain: float) -> Angles:
    """Outward (0) vs inward (1) arm circles in the frontal plane.

    Both arms draw the same circles in opposite directions: the two classes
    are time-reversals of each other.
    """
    n_circles = int(rng.integers(1, 3))
    phi = 360.0 * n_circles * _smoothstep((u - 0.08) / 0.84)
    if variant == 1:
        phi = -phi
    phi = np.mod(phi, 360.0)
    lateral = phi <= 180.0
    elev = np.where(lateral, phi, 360.0 - phi)
    # base pose has elevation 8 / azimuth 90: offsets relative to it
    azim = np.where(lateral, 0.0, -150.0)
    return dict(
        l_arm_e=gain * elev, r_arm_e=gain * elev, l_arm_a=azim, r_arm_a=azim)


# (name of class 0, name of class 1, template, what separates the pair)
PAIRS: Tuple[Tuple[str, str, Callable, str], ...] = (
    ('straight_jump', 'stag_jump', _jump,
     'one limb: right hip/knee bent during the flight phase only'),
    ('half_turn_left', 'half_turn_right', _turn,
     'direction of a 180-degree turn (visible only via off-plane joints)'),
    ('squat_press_down', 'squat_press_up', _squat_press,
     'timing of one phase: press during the descent vs the ascent'),
    ('front_kick_low', 'front_kick_high', _kick,
     'amplitude of one phase: peak hip flexion ~55 vs ~80 degrees'),
    ('arm_circle_out', 'arm_circle_in', _arm_circle,
     'direction of arm circles (time-reversed motions)'),
)


def class_names(num_pairs: int = 4) -> List[str]:
    """Names of the ``2 * num_pairs`` classes, label order.

    Labels ``2k`` and ``2k + 1`` form pair ``k``.
    """
    _check_num_pairs(num_pairs)
    return [name for pair in PAIRS[:num_pairs] for name in pair[:2]]


def _check_num_pairs(num_pairs: int) -> None:
    if not 1 <= num_pairs <= len(PAIRS):
        raise ValueError(f'num_pairs must be in [1, {len(PAIRS)}], '
                         f'got {num_pairs}')


# ---------------------------------------------------------------------------
# Body model
# ---------------------------------------------------------------------------

# Segment lengths in units of body height (roughly anthropometric).
_SEGMENTS = dict(
    torso=0.29,
    shoulder=0.115,
    hip=0.085,
    upper_arm=0.186,
    forearm=0.146,
    thigh=0.245,
    shank=0.246,
    head=1.0)

_CHANNELS = ('l_arm_e', 'l_arm_a', 'l_elbow', 'r_arm_e', 'r_arm_a', 'r_elbow',
             'l_hip_f', 'l_hip_a', 'l_knee', 'l_shin_a', 'r_hip_f', 'r_hip_a',
             'r_knee', 'r_shin_a', 'squat', 'lean', 'yaw')

# Standing base pose (degrees): arms hanging slightly abducted, legs apart.
_BASE_POSE = dict(
    l_arm_e=8.0,
    r_arm_e=8.0,
    l_arm_a=90.0,
    r_arm_a=90.0,
    l_elbow=12.0,
    r_elbow=12.0,
    l_hip_a=4.0,
    r_hip_a=4.0)


def _make_subject(rng: np.random.Generator) -> Dict[str, float]:
    """Body proportions and movement style of one performer."""
    subject = {
        k: v * float(np.exp(rng.normal(0.0, 0.06)))
        for k, v in _SEGMENTS.items()
    }
    subject['gain'] = float(rng.uniform(0.88, 1.12))  # movement amplitude
    subject['warp'] = float(rng.uniform(-0.25, 0.25))  # speed profile bias
    subject['arm_carry'] = float(rng.normal(0.0, 5.0))  # arm posture
    subject['lean'] = float(rng.normal(0.0, 3.0))  # habitual trunk lean
    return subject


def _limb_dir(elev: np.ndarray, azim: np.ndarray, side: float) -> np.ndarray:
    """Unit direction of an arm segment.

    ``elev`` 0 hangs down, 90 is horizontal, 180 points up; ``azim`` 0 is in
    the sagittal plane (forward), 90 lateral (to the limb's side), negative
    values cross in front of the body. ``side`` +1 left, -1 right.
    """
    e, a = np.deg2rad(elev), np.deg2rad(azim)
    return np.stack(
        [side * np.sin(e) * np.sin(a), -np.cos(e),
         np.sin(e) * np.cos(a)],
        axis=-1)


def _leg_dir(flex: np.ndarray, abd: np.ndarray, side: float) -> np.ndarray:
    """Unit direction of a leg segment (flexion forward, abduction out)."""
    f, a = np.deg2rad(flex), np.deg2rad(abd)
    return np.stack([
        side * np.sin(a) * np.ones_like(f), -np.cos(f) * np.cos(a),
        np.sin(f) * np.cos(a)
    ],
                    axis=-1)


def _rot_x(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotate vectors ``(..., 3)`` about x so that +y tilts towards +z."""
    c, s = np.cos(ang)[..., None], np.sin(ang)[..., None]
    x, y, z = v[..., 0:1], v[..., 1:2], v[..., 2:3]
    return np.concatenate([x, c * y - s * z, s * y + c * z], axis=-1)


def _rot_y(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotate vectors ``(..., 3)`` about y; +ang turns +z towards +x."""
    c, s = np.cos(ang)[..., None], np.sin(ang)[..., None]
    x, y, z = v[..., 0:1], v[..., 1:2], v[..., 2:3]
    return np.concatenate([c * x + s * z, y, -s * x + c * z], axis=-1)


def _pose_3d(ang: Angles, lift: np.ndarray,
             subject: Dict[str, float]) -> np.ndarray:
    """Forward kinematics: joint angles -> COCO-17 joints (T, 17, 3).

    Body frame: x to the subject's left, y up, z forward (towards the camera
    at yaw 0); lengths in body heights; the lowest ankle stands on y = 0
    unless lifted (jumps).
    """
    T = lift.shape[0]
    sq = ang['squat']
    lean = np.deg2rad(ang['lean'])
    up = _rot_x(np.tile(np.array([0.0, 1.0, 0.0]), (T, 1)), lean)
    joints = np.zeros((T, 17, 3))
    hw, sw = subject['hip'], subject['shoulder']
    neck = subject['torso'] * up
    joints[:, 11] = [hw, 0.0, 0.0]
    joints[:, 12] = [-hw, 0.0, 0.0]
    joints[:, 5] = neck + [sw, 0.0, 0.0]
    joints[:, 6] = neck + [-sw, 0.0, 0.0]
    head = subject['head']
    face = {
        0: (0.0, 0.12, 0.06),
        1: (0.03, 0.15, 0.045),
        2: (-0.03, 0.15, 0.045),
        3: (0.07, 0.135, -0.02),
        4: (-0.07, 0.135, -0.02)
    }
    for j, off in face.items():
        joints[:, j] = neck + _rot_x(
            np.tile(np.asarray(off) * head, (T, 1)), lean)
    for side, pre, (sh, el, wr) in ((1.0, 'l', (5, 7, 9)), (-1.0, 'r', (6, 8,
                                                                        10))):
        e, a = ang[f'{pre}_arm_e'], ang[f'{pre}_arm_a']
        joints[:,
               el] = joints[:,
                            sh] + subject['upper_arm'] * _limb_dir(e, a, side)
        joints[:, wr] = joints[:, el] + subject['forearm'] * _limb_dir(
            e + ang[f'{pre}_elbow'], a, side)
    for side, pre, (hp, kn, an) in ((1.0, 'l', (11, 13, 15)), (-1.0, 'r',
                                                               (12, 14, 16))):
        f = ang[f'{pre}_hip_f'] + sq
        # squat: thigh flexes by ``sq``, shank tilts forward by 0.45 sq
        k = ang[f'{pre}_knee'] + 1.45 * sq
        a = ang[f'{pre}_hip_a']
        joints[:, kn] = joints[:, hp] + subject['thigh'] * _leg_dir(f, a, side)
        # the shank may turn inwards (shin_a < 0), e.g. for a passe
        joints[:, an] = joints[:, kn] + subject['shank'] * _leg_dir(
            f - k, a + ang[f'{pre}_shin_a'], side)
    yaw = np.deg2rad(ang['yaw'])
    joints = _rot_y(joints, yaw[:, None])
    ground = joints[:, [15, 16], 1].min(axis=1)
    joints[..., 1] += (lift - ground)[:, None]
    return joints


def _smooth_noise(rng: np.random.Generator, T: int, n: int,
                  sigma: float) -> np.ndarray:
    """Low-pass (moving average of white noise) noise, shape (T, n)."""
    k = 7
    white = rng.normal(0.0, 1.0, (T + k - 1, n))
    kernel = np.ones(k) / np.sqrt(k)
    out = np.stack(
        [np.convolve(white[:, i], kernel, mode='valid') for i in range(n)],
        axis=1)
    return sigma * out


def _make_clip(label: int, subject: Dict[str, float], rng: np.random.Generator,
               min_frames: int, max_frames: int) -> dict:
    """Animate, project and corrupt one clip of class ``label``."""
    T = int(rng.integers(min_frames, max_frames + 1))
    # --- timing: idle frames around the movement + non-linear speed ------
    start = rng.uniform(0.0, 0.12) * T
    end = T - 1 - rng.uniform(0.0, 0.12) * T
    lin = np.clip((np.arange(T) - start) / (end - start), 0.0, 1.0)
    # u = lin + w / (2 pi) * sin(2 pi lin) is monotone for |w| < 1
    w = np.clip(subject['warp'] + rng.uniform(-0.4, 0.4), -0.6, 0.6)
    u = lin + w / (2.0 * np.pi) * np.sin(2.0 * np.pi * lin)
    u = np.clip(u, 0.0, 1.0)

    # --- joint angles ----------------------------------------------------
    template = PAIRS[label // 2][2]
    offsets = template(u, label % 2, rng, subject['gain'])
    lift = np.asarray(offsets.pop('lift', np.zeros(T)), dtype=np.float64)
    noise = _smooth_noise(rng, T, len(_CHANNELS), 2.0)
    ang = {}
    for i, ch in enumerate(_CHANNELS):
        base = _BASE_POSE.get(ch, 0.0) + rng.normal(0.0, 3.0)
        val = base + np.asarray(offsets.get(ch, 0.0)) + noise[:, i]
        ang[ch] = np.broadcast_to(val, (T, )).astype(np.float64)
    for ch in ('l_arm_e', 'r_arm_e'):
        ang[ch] = ang[ch] + subject['arm_carry']
    ang['lean'] = ang['lean'] + subject['lean']
    ang['yaw'] = ang['yaw'] + rng.normal(0.0, 3.0)
    joints = _pose_3d(ang, lift, subject)

    # --- body drift and camera ------------------------------------------
    drift = rng.normal(0.0, 0.04) * lin + _smooth_noise(rng, T, 1, 0.002)[:, 0]
    joints[..., 0] += drift[:, None]
    cam_yaw = np.deg2rad(rng.uniform(-30.0, 30.0))
    cam_pitch = np.deg2rad(rng.uniform(-5.0, 15.0))
    cam = _rot_y(joints, np.full((T, 17), cam_yaw))
    cam = _rot_x(cam, np.full((T, 17), cam_pitch))

    h, w_img = _IMG_SHAPES[int(rng.integers(len(_IMG_SHAPES)))]
    ground_y = rng.uniform(0.84, 0.95) * h
    height_px = rng.uniform(0.45, 0.72) * h
    centre_x = rng.uniform(0.3, 0.7) * w_img
    kp = np.empty((T, 17, 2))
    kp[..., 0] = centre_x + height_px * cam[..., 0]
    kp[..., 1] = ground_y - height_px * cam[..., 1]
    kp += rng.normal(0.0, rng.uniform(0.003, 0.008) * height_px, kp.shape)

    # --- detection scores -------------------------------------------------
    score = rng.uniform(0.75, 0.97, (1, 17)) + rng.normal(0.0, 0.04, (T, 17))
    facing = np.cos(np.deg2rad(ang['yaw']) + cam_yaw)  # 1: faces camera
    score[:, :5] *= (0.3 + 0.7 * np.clip(facing, 0.0, 1.0))[:, None]
    bad = rng.random((T, 17)) < 0.025  # sporadic mis-detections
    if rng.random() < 0.5:  # a short occlusion of one wrist/ankle
        j = int(rng.choice([9, 10, 15, 16]))
        t0 = int(rng.integers(0, T - 6))
        bad[t0:t0 + int(rng.integers(2, 7)), j] = True
    score[bad] = rng.uniform(0.05, 0.3, int(bad.sum()))
    kp[bad] += rng.normal(0.0, 0.06 * height_px, (int(bad.sum()), 2))
    score = np.clip(score, 0.0, 1.0)

    return dict(
        label=label,
        total_frames=T,
        img_shape=(h, w_img),
        original_shape=(h, w_img),
        keypoint=kp[None].astype(np.float16),
        keypoint_score=score[None].astype(np.float16))


def generate_demo_annotations(seed: int = 0,
                              num_pairs: int = 4,
                              clips_per_class: int = 40,
                              num_subjects: int = 8,
                              val_subjects: int = 2,
                              min_frames: int = 30,
                              max_frames: int = 80) -> dict:
    """Generate the demo dataset in memory.

    Args:
        seed (int): Random seed; equal arguments give equal data.
            Defaults to 0.
        num_pairs (int): Number of class pairs (``2 * num_pairs`` classes,
            at most ``len(PAIRS)``). Defaults to 4.
        clips_per_class (int): Clips per class, spread evenly over the
            subjects. Defaults to 40.
        num_subjects (int): Number of performers. Defaults to 8.
        val_subjects (int): Performers held out for the ``val`` split
            (cross-subject split). Defaults to 2 (i.e. 25%).
        min_frames (int): Minimum clip length. Defaults to 30.
        max_frames (int): Maximum clip length. Defaults to 80.

    Returns:
        dict: ``dict(split=dict(train=[...], val=[...]),
        annotations=[...])`` as MMAction2's ``PoseDataset`` reads it.
    """
    _check_num_pairs(num_pairs)
    if not 0 < val_subjects < num_subjects:
        raise ValueError('need 0 < val_subjects < num_subjects, got '
                         f'{val_subjects} and {num_subjects}')
    if clips_per_class < num_subjects:
        raise ValueError('clips_per_class must be >= num_subjects so every '
                         'split holds every class')
    if not 8 <= min_frames <= max_frames:
        raise ValueError('need 8 <= min_frames <= max_frames')
    num_classes = 2 * num_pairs
    root = np.random.SeedSequence(seed)
    subj_seq, split_seq, order_seq, clip_seq = root.spawn(4)
    subj_rng = np.random.default_rng(subj_seq)
    subjects = [_make_subject(subj_rng) for _ in range(num_subjects)]
    val_set = set(
        np.random.default_rng(split_seq).permutation(num_subjects)
        [:val_subjects].tolist())

    # (label, subject) of every clip, stored in shuffled order so that the
    # ids do not reveal the label
    jobs = [(c, k % num_subjects) for c in range(num_classes)
            for k in range(clips_per_class)]
    order = np.random.default_rng(order_seq).permutation(len(jobs))
    clip_seqs = clip_seq.spawn(len(jobs))
    annotations, train, val = [], [], []
    for idx, job in enumerate(order.tolist()):
        label, subj = jobs[job]
        clip = _make_clip(label, subjects[subj],
                          np.random.default_rng(clip_seqs[idx]), min_frames,
                          max_frames)
        frame_dir = f'S{subj:02d}_{idx:05d}'
        annotations.append(dict(frame_dir=frame_dir, **clip))
        (val if subj in val_set else train).append(frame_dir)
    return dict(split=dict(train=train, val=val), annotations=annotations)


def generate_demo_dataset(out_file: str,
                          seed: int = 0,
                          num_pairs: int = 4,
                          clips_per_class: int = 40,
                          num_subjects: int = 8,
                          val_subjects: int = 2,
                          min_frames: int = 30,
                          max_frames: int = 80) -> str:
    """Generate the demo dataset and write it as a pickle, atomically.

    The file is written to a temporary file in the same directory and moved
    into place with :func:`os.replace`, so readers never see a partial file.

    Args:
        out_file (str): Destination ``.pkl`` path; parents are created.
        seed (int): Random seed. Defaults to 0.
        num_pairs (int): Number of class pairs. Defaults to 4.
        clips_per_class (int): Clips per class. Defaults to 40.
        num_subjects (int): Number of performers. Defaults to 8.
        val_subjects (int): Held-out performers. Defaults to 2.
        min_frames (int): Minimum clip length. Defaults to 30.
        max_frames (int): Maximum clip length. Defaults to 80.

    Returns:
        str: ``out_file``.
    """
    data = generate_demo_annotations(
        seed=seed,
        num_pairs=num_pairs,
        clips_per_class=clips_per_class,
        num_subjects=num_subjects,
        val_subjects=val_subjects,
        min_frames=min_frames,
        max_frames=max_frames)
    out_dir = os.path.dirname(os.path.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=out_dir, prefix='.' + os.path.basename(out_file), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(data, f, protocol=PICKLE_PROTOCOL)
        # mkstemp creates 0600 files: give the usual umask-based mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out_file)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return out_file


# ---------------------------------------------------------------------------
# Learnability sanity check (numpy only)
# ---------------------------------------------------------------------------


def handcrafted_features(ann: dict) -> np.ndarray:
    """Order-free clip descriptor for a linear baseline.

    Keypoints are centred on the mean hip centre and scaled by the mean
    torso length, then summarised by the time-average and standard deviation
    of the joint positions and the time-average of the (signed and absolute)
    joint velocities. The descriptor ignores temporal order, which is what
    several pairs hinge on.

    Args:
        ann (dict): One annotation of the demo dataset.

    Returns:
        np.ndarray: Feature vector, ``float64`` of length ``17 * 2 * 5``.
    """
    kp = ann['keypoint'][0].astype(np.float64)  # T, V, 2
    hips = kp[:, 11:13].mean(axis=1)
    shoulders = kp[:, 5:7].mean(axis=1)
    scale = np.linalg.norm(shoulders - hips, axis=-1).mean() + 1e-6
    x = (kp - hips.mean(axis=0)) / scale
    vel = np.diff(x, axis=0) * (ann['total_frames'] / 50.0)
    feats = [
        x.mean(0),
        x.std(0),
        vel.mean(0),
        np.abs(vel).mean(0),
        x.max(0) - x.min(0)
    ]
    return np.concatenate([f.ravel() for f in feats])


def _fit_softmax(x: np.ndarray,
                 y: np.ndarray,
                 num_classes: int,
                 l2: float = 1e-2,
                 lr: float = 0.5,
                 iters: int = 500) -> np.ndarray:
    """Multinomial logistic regression by full-batch gradient descent."""
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    w = np.zeros((xb.shape[1], num_classes))
    onehot = np.eye(num_classes)[y]
    for _ in range(iters):
        logits = xb @ w
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = xb.T @ (p - onehot) / len(x) + l2 * w
        w -= lr * grad
    return w


def evaluate_handcrafted_baseline(data: dict) -> Dict[str, object]:
    """Train/val a linear classifier on :func:`handcrafted_features`.

    Args:
        data (dict): The demo dataset (``split`` and ``annotations``).

    Returns:
        dict: ``top1`` (8-way val accuracy), ``pair_top1`` (accuracy of
        predicting the right pair), ``within_pair_error_fraction`` (share of
        the errors that confuse the two classes of a pair),
        ``nearest_mean_top1`` (nearest-class-mean accuracy on the same
        standardised features) and ``confusion`` (val confusion matrix,
        rows = true label).
    """
    by_id = {a['frame_dir']: a for a in data['annotations']}
    train = [by_id[i] for i in data['split']['train']]
    val = [by_id[i] for i in data['split']['val']]
    num_classes = 1 + max(a['label'] for a in data['annotations'])
    xtr = np.stack([handcrafted_features(a) for a in train])
    xva = np.stack([handcrafted_features(a) for a in val])
    ytr = np.array([a['label'] for a in train])
    yva = np.array([a['label'] for a in val])
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    xtr, xva = (xtr - mu) / sd, (xva - mu) / sd

    w = _fit_softmax(xtr, ytr, num_classes)
    pred = np.argmax(np.concatenate([xva, np.ones((len(xva), 1))], 1) @ w, 1)
    means = np.stack([xtr[ytr == c].mean(0) for c in range(num_classes)])
    dist = ((xva[:, None] - means[None])**2).sum(-1)
    ncm_pred = dist.argmin(1)

    conf = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(conf, (yva, pred), 1)
    wrong = pred != yva
    within = wrong & (pred // 2 == yva // 2)
    return dict(
        top1=float((pred == yva).mean()),
        pair_top1=float((pred // 2 == yva // 2).mean()),
        within_pair_error_fraction=float(within.sum() / max(wrong.sum(), 1)),
        nearest_mean_top1=float((ncm_pred == yva).mean()),
        confusion=conf.tolist())


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description='Generate the fine-grained 2D demo skeleton dataset.')
    parser.add_argument('out_file', help='output .pkl path')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-pairs', type=int, default=4)
    parser.add_argument('--clips-per-class', type=int, default=40)
    parser.add_argument('--num-subjects', type=int, default=8)
    parser.add_argument('--val-subjects', type=int, default=2)
    parser.add_argument('--min-frames', type=int, default=30)
    parser.add_argument('--max-frames', type=int, default=80)
    parser.add_argument(
        '--check',
        action='store_true',
        help='also print the hand-crafted linear baseline accuracy')
    args = parser.parse_args(argv)
    out = generate_demo_dataset(
        args.out_file,
        seed=args.seed,
        num_pairs=args.num_pairs,
        clips_per_class=args.clips_per_class,
        num_subjects=args.num_subjects,
        val_subjects=args.val_subjects,
        min_frames=args.min_frames,
        max_frames=args.max_frames)
    with open(out, 'rb') as f:
        data = pickle.load(f)
    print(f'wrote {out}: {len(data["annotations"])} clips '
          f'({len(data["split"]["train"])} train / '
          f'{len(data["split"]["val"])} val), classes: '
          f'{", ".join(class_names(args.num_pairs))}')
    if args.check:
        res = evaluate_handcrafted_baseline(data)
        print('hand-crafted linear baseline: ' +
              ', '.join(f'{k}={v:.3f}'
                        for k, v in res.items() if k != 'confusion'))


if __name__ == '__main__':
    main()
