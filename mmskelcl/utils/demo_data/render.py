"""Body model, camera and detection noise of the demo dataset.

A 3D stick figure with the 17 COCO keypoints is posed by forward
kinematics, projected orthographically through a randomly placed camera
and corrupted like the output of a 2D pose detector.
"""
from typing import Dict

import numpy as np

from .motions import PAIRS, Angles

COCO_JOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
               'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
               'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
               'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

# Image sizes (h, w) the clips are "recorded" at.
_IMG_SHAPES = ((480, 640), (540, 960), (720, 1280), (1080, 1920))

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
