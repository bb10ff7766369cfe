"""Drawing skeleton clips with OpenCV: bones from the layouts, a view of 3D
clips, per-joint and per-frame weights, labels.

Frames are RGB ``uint8 (H, W, 3)`` arrays (mmengine's ``Visualizer``
convention); OpenCV draws on them in place. Coordinates are pixels with
``y`` down. A 2D clip with ``img_shape`` is drawn in its own pixels (so it
overlays the video it came from); a 3D clip is seen from a view (azimuth
about the vertical axis, then elevation) and fitted into the canvas, with
one scale for the whole clip so the motion stays visible.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..structures.layouts import NUM_JOINTS, bone_pairs

#: colours of persons 0, 1, 2, ... (RGB)
PERSON_COLORS = ((255, 160, 40), (60, 190, 255), (120, 230, 90),
                 (240, 90, 200))
#: a joint whose score is below this (2D detectors) is not drawn
SCORE_THR = 0.05


def layout_of(num_joints: int, layout: Optional[str] = None) -> str:
    """The layout name of a clip: ``layout`` if given, else the only
    shipped layout with ``num_joints`` joints."""
    if layout is not None:
        bone_pairs(layout)  # unknown names: a clear error
        if NUM_JOINTS.get(layout, num_joints) != num_joints:
            raise ValueError(f'layout {layout!r} has {NUM_JOINTS[layout]} '
                             f'joints, the clip {num_joints}')
        return layout
    found = [name for name, n in NUM_JOINTS.items() if n == num_joints]
    if len(found) != 1:
        raise ValueError(f'no single layout has {num_joints} joints (known: '
                         f'{NUM_JOINTS}); pass the layout (--layout)')
    return found[0]


def bones_of(layout: str) -> List[Tuple[int, int]]:
    """The drawable bones ``(child, parent)`` of a layout (roots left out)."""
    return [(v, p) for v, p in bone_pairs(layout) if v != p]


def view_matrix(azimuth: float, elevation: float) -> np.ndarray:
    """``(3, 3)`` rotation of a view: ``azimuth`` degrees about the
    vertical (``y``) axis, then ``elevation`` degrees about ``x``. At
    ``(0, 0)`` the clip is seen from the front: x right, y up."""
    a, e = np.deg2rad(azimuth), np.deg2rad(elevation)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0],
                   [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)],
                   [0, np.sin(e), np.cos(e)]])
    return rx @ ry


def project(points: np.ndarray, azimuth: float = 0.,
            elevation: float = 0.) -> np.ndarray:
    """Orthographic view ``(..., 3) -> (..., 2)`` with image ``y`` down."""
    p = np.asarray(points, np.float64) @ view_matrix(azimuth, elevation).T
    return np.stack([p[..., 0], -p[..., 1]], axis=-1)


def valid_joints(keypoint: np.ndarray,
                 keypoint_score: Optional[np.ndarray] = None) -> np.ndarray:
    """``(M, T, V)`` mask of the joints to draw: scored above
    :data:`SCORE_THR` (when scores exist) and not all-zero coordinates
    (padded persons and frames)."""
    valid = np.abs(keypoint).sum(-1) > 0
    if keypoint_score is not None:
        valid &= np.asarray(keypoint_score) >= SCORE_THR
    return valid


def fit_to_canvas(xy: np.ndarray, valid: np.ndarray, size: Tuple[int, int],
                  margin: float = 0.08) -> np.ndarray:
    """Scale and shift ``(M, T, V, 2)`` so the valid joints of the whole
    clip fill a ``size = (h, w)`` canvas (aspect kept, ``margin`` of the
    shorter side free)."""
    h, w = size
    pts = xy[valid] if valid.any() else np.zeros((1, 2))
    lo, hi = pts.min(0), pts.max(0)
    span = np.maximum(hi - lo, 1e-6)
    pad = margin * min(h, w)
    scale = min((w - 2 * pad) / span[0], (h - 2 * pad) / span[1])
    centre = (lo + hi) / 2
    return (xy - centre) * scale + np.array([w / 2, h / 2])


def weight_colors(weights: np.ndarray) -> np.ndarray:
    """``(..., 3)`` RGB colours of weights in [0, 1] (OpenCV's JET map:
    blue low, red high)."""
    import cv2
    w = np.clip(np.asarray(weights, np.float64), 0, 1)
    idx = np.round(w * 255).astype(np.uint8).reshape(-1, 1)
    bgr = cv2.applyColorMap(idx, cv2.COLORMAP_JET).reshape(w.shape + (3, ))
    return bgr[..., ::-1]


def normalise_weights(weights: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] (all equal: 0.5)."""
    w = np.asarray(weights, np.float64)
    lo, hi = w.min(), w.max()
    return np.full_like(w, 0.5) if hi - lo < 1e-12 else (w - lo) / (hi - lo)


def draw_skeleton(frame: np.ndarray, joints: np.ndarray, valid: np.ndarray,
                  bones: Sequence[Tuple[int, int]],
                  joint_weights: Optional[np.ndarray] = None,
                  radius: int = 4, thickness: int = 2) -> np.ndarray:
    """Draw the persons of one frame in place.

    Args:
        frame (np.ndarray): RGB ``(H, W, 3)`` uint8.
        joints (np.ndarray): ``(M, V, 2)`` pixel coordinates.
        valid (np.ndarray): ``(M, V)`` joints to draw.
        bones (Sequence): ``(child, parent)`` joint pairs.
        joint_weights (np.ndarray, optional): ``(V,)`` in [0, 1]: joint
            colour (JET) and radius (``radius * (0.6 + 1.2 w)``).
    """
    import cv2
    pts = np.round(joints).astype(np.int32)
    colors = None if joint_weights is None else weight_colors(joint_weights)
    for m in range(pts.shape[0]):
        color = PERSON_COLORS[m % len(PERSON_COLORS)]
        for a, b in bones:
            if valid[m, a] and valid[m, b]:
                cv2.line(frame, tuple(map(int, pts[m, a])),
                         tuple(map(int, pts[m, b])), color, thickness,
                         cv2.LINE_AA)
        for v in np.flatnonzero(valid[m]):
            if colors is None:
                cv2.circle(frame, tuple(map(int, pts[m, v])), radius,
                           (255, 255, 255), -1, cv2.LINE_AA)
            else:
                r = max(1, int(round(radius * (0.6 + 1.2 *
                                               joint_weights[v]))))
                cv2.circle(frame, tuple(map(int, pts[m, v])), r,
                           tuple(int(c) for c in colors[v]), -1, cv2.LINE_AA)
    return frame


def text_scale(h: int, w: int) -> float:
    """Font scale of the labels on an ``(h, w)`` canvas."""
    return max(0.35, min(h, w) / 600)


def _line_height(scale: float) -> int:
    import cv2
    (_, th), _ = cv2.getTextSize('Ag', cv2.FONT_HERSHEY_SIMPLEX, scale,
                                 max(1, int(round(scale * 1.5))))
    return th + int(8 * scale) + 2


def text_block_height(num_lines: int, scale: float) -> int:
    """Height of :func:`draw_texts`' box for ``num_lines`` lines (even, so
    an even canvas stays even for H.264)."""
    if not num_lines:
        return 0
    h = _line_height(scale) * num_lines + 6
    return h + h % 2


def draw_texts(frame: np.ndarray, lines: Sequence[str],
               scale: Optional[float] = None) -> Tuple[int, int]:
    """White text lines on a darkened box at the top left, in place
    (lines wider than the frame shrink the font, down to 0.25).

    Returns:
        tuple: ``(height, width)`` of the box (the label region).
    """
    import cv2
    if not lines:
        return 0, 0
    h, w = frame.shape[:2]
    scale = scale or text_scale(h, w)
    font = cv2.FONT_HERSHEY_SIMPLEX

    def widths(scale):
        thick = max(1, int(round(scale * 1.5)))
        return [cv2.getTextSize(t, font, scale, thick)[0][0] for t in lines]

    if max(widths(scale)) + 10 > w:  # shrink long lines to the width
        scale = max(0.25, scale * (w - 10) / max(widths(scale)))
    thick = max(1, int(round(scale * 1.5)))
    line_h = _line_height(scale)
    box_h = min(h, text_block_height(len(lines), scale))
    box_w = min(w, max(widths(scale)) + 10)
    frame[:box_h, :box_w] = (frame[:box_h, :box_w] * 0.35).astype(np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(frame, text, (5, (i + 1) * line_h - 2), font, scale,
                    (255, 255, 255), thick, cv2.LINE_AA)
    return box_h, box_w


def draw_time_bar(frame: np.ndarray, t: int, num_frames: int,
                  frame_weights: Optional[np.ndarray] = None,
                  height: int = 8) -> np.ndarray:
    """A bar along the bottom edge, in place: one segment per frame
    coloured by ``frame_weights`` (JET; grey without weights) and a white
    cursor at frame ``t``."""
    import cv2
    h, w = frame.shape[:2]
    y0 = h - height
    edges = np.linspace(0, w, num_frames + 1).round().astype(int)
    colors = (np.full((num_frames, 3), 90) if frame_weights is None else
              weight_colors(frame_weights))
    for i in range(num_frames):
        frame[y0:, edges[i]:max(edges[i + 1], edges[i] + 1)] = colors[i]
    x = int((edges[t] + edges[t + 1]) // 2)
    cv2.line(frame, (x, y0 - 3), (x, h - 1), (255, 255, 255), 2)
    return frame


def tile(clips: Sequence[Sequence[np.ndarray]], cols: int) -> List[np.ndarray]:
    """Frames of a grid of clips (``cols`` per row; a short clip holds its
    last frame). Cells have the largest frame size; a smaller frame sits at
    the cell's top left on black (never rescaled)."""
    h = max(c[0].shape[0] for c in clips)
    w = max(c[0].shape[1] for c in clips)
    n = max(len(c) for c in clips)
    rows = -(-len(clips) // cols)
    out = []
    for t in range(n):
        grid = np.zeros((rows * h, cols * w, 3), np.uint8)
        for i, clip in enumerate(clips):
            img = clip[min(t, len(clip) - 1)]
            r, c = divmod(i, cols)
            grid[r * h:r * h + img.shape[0],
                 c * w:c * w + img.shape[1]] = img
        out.append(grid)
    return out
