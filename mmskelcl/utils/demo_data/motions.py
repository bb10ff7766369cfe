"""Movement templates of the demo dataset and the class pairs they define.

Each template animates one pair of near-identical classes as joint-angle
offsets (degrees) over the normalised action phase ``u`` in [0, 1].
"""
from typing import Callable, Dict, List, Tuple

import numpy as np

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
