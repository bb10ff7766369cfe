"""Pre- and post-processing of RTMDet / RTMPose ONNX models (numpy + cv2).

The same steps as MMDetection's and MMPose's test pipelines, so an ONNX
model exported from them (MMDeploy, or the models rtmlib distributes)
gives the keypoints the OpenMMLab model gives:

* RTMDet: ``Resize(keep_ratio=True)`` to fit the model input, ``Pad`` to
  it with 114 at the bottom and right, BGR normalised with
  mean (103.53, 116.28, 123.675) / std (57.375, 57.12, 58.395)
  (``bgr_to_rgb=False``); the boxes it returns are in that input's pixels
  and are divided by the resize factor of each axis.
* RTMPose: ``GetBBoxCenterScale(padding=1.25)``, ``TopdownAffine`` to the
  model input (the box scale widened or heightened to its aspect ratio,
  the box centre at the input's centre), RGB normalised with mean
  (123.675, 116.28, 103.53) / std (58.395, 57.12, 57.375)
  (``bgr_to_rgb=True``); SimCC decoding (arg-max bin / split ratio, score
  the smaller of the two maxima, as ``mmpose.codecs``); back to the image
  with ``kp / input_size * scale + center - scale / 2``.
"""
from typing import Sequence, Tuple

import numpy as np

RTMDET_MEAN_BGR = (103.53, 116.28, 123.675)
RTMDET_STD_BGR = (57.375, 57.12, 58.395)
RTMPOSE_MEAN_RGB = (123.675, 116.28, 103.53)
RTMPOSE_STD_RGB = (58.395, 57.12, 57.375)
PAD_VALUE = 114
BBOX_PADDING = 1.25


def to_blob(images: np.ndarray, mean: Sequence[float],
            std: Sequence[float]) -> np.ndarray:
    """Images (N, H, W, 3) or (H, W, 3), uint8 or float, in the channel
    order of ``mean`` -> normalised float32 (N, 3, H, W)."""
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[None]
    blob = (images - np.float32(mean)) / np.float32(std)
    return np.ascontiguousarray(blob.transpose(0, 3, 1, 2))


def letterbox(frame: np.ndarray,
              input_hw: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Resize ``frame`` (H, W, 3) keeping its aspect ratio to fit
    ``input_hw`` and pad the bottom/right with 114 (MMDetection's
    ``Resize(keep_ratio=True)`` + ``Pad``).

    Returns:
        tuple: The padded image (h_in, w_in, 3) uint8 and the resize factors
        (2,) ``(new_w / W, new_h / H)``; a box in the padded image divided
        by them is in the frame's pixels.
    """
    import cv2
    h, w = frame.shape[:2]
    h_in, w_in = input_hw
    factor = min(h_in / h, w_in / w)
    new_w, new_h = int(w * factor + 0.5), int(h * factor + 0.5)
    padded = np.full((h_in, w_in, 3), PAD_VALUE, np.uint8)
    padded[:new_h, :new_w] = cv2.resize(frame, (new_w, new_h),
                                        interpolation=cv2.INTER_LINEAR)
    return padded, np.array([new_w / w, new_h / h], np.float64)


def box_center_scale(boxes: np.ndarray, input_wh: Tuple[int, int],
                     padding: float = BBOX_PADDING
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) and scales (N, 2) ``(w, h)`` of the crops of
    ``boxes`` (N, 4+) ``x1, y1, x2, y2``: the box times ``padding``, then
    its shorter side (relative to the input's aspect ratio) extended so
    that ``w / h == input_w / input_h``."""
    boxes = np.asarray(boxes, np.float64)[:, :4]
    center = (boxes[:, :2] + boxes[:, 2:]) / 2
    scale = (boxes[:, 2:] - boxes[:, :2]) * padding
    aspect = input_wh[0] / input_wh[1]
    wide = scale[:, 0] > scale[:, 1] * aspect
    scale = np.where(wide[:, None],
                     np.stack([scale[:, 0], scale[:, 0] / aspect], 1),
                     np.stack([scale[:, 1] * aspect, scale[:, 1]], 1))
    return center, scale


def crop_matrix(center: np.ndarray, scale: np.ndarray,
                input_wh: Tuple[int, int]) -> np.ndarray:
    """The (2, 3) affine map from frame pixels to input pixels that sends
    ``center`` to the input's centre and ``scale`` (w, h) to its size
    (MMPose's ``get_warp_matrix`` without rotation or shift)."""
    s = input_wh[0] / scale[0]  # == input_h / scale_h after box_center_scale
    return np.array([[s, 0, input_wh[0] / 2 - s * center[0]],
                     [0, s, input_wh[1] / 2 - s * center[1]]], np.float64)


def crop_persons(frame: np.ndarray, centers: np.ndarray, scales: np.ndarray,
                 input_wh: Tuple[int, int]) -> np.ndarray:
    """The crops (N, input_h, input_w, 3) of one frame (bilinear, zero
    outside the frame)."""
    import cv2
    return np.stack([
        cv2.warpAffine(frame, crop_matrix(c, s, input_wh),
                       (int(input_wh[0]), int(input_wh[1])),
                       flags=cv2.INTER_LINEAR)
        for c, s in zip(centers, scales)
    ])


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray,
                 split_ratio: float) -> Tuple[np.ndarray, np.ndarray]:
    """SimCC vectors -> keypoints in input pixels and scores.

    Args:
        simcc_x (np.ndarray): (N, K, W * split_ratio) x logits.
        simcc_y (np.ndarray): (N, K, H * split_ratio) y logits.
        split_ratio (float): Bins per input pixel (2.0 for RTMPose).

    Returns:
        tuple: Keypoints (N, K, 2) ``bin / split_ratio`` (``-1 /
        split_ratio`` where the score is <= 0, as MMPose) and scores (N, K),
        the smaller of the x and y maxima.
    """
    locs = np.stack([simcc_x.argmax(-1), simcc_y.argmax(-1)],
                    -1).astype(np.float32)
    scores = np.minimum(simcc_x.max(-1), simcc_y.max(-1)).astype(np.float32)
    locs[scores <= 0] = -1
    return locs / np.float32(split_ratio), scores


def to_image(keypoints: np.ndarray, centers: np.ndarray, scales: np.ndarray,
             input_wh: Tuple[int, int]) -> np.ndarray:
    """Keypoints (N, K, 2) in input pixels -> frame pixels, the inverse of
    :func:`crop_matrix` (``kp / input_size * scale + center - scale /
    2``)."""
    size = np.asarray(input_wh, np.float64)
    return (keypoints / size * scales[:, None] + centers[:, None] -
            scales[:, None] / 2).astype(np.float32)
