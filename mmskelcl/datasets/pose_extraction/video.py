"""Reading videos frame by frame (OpenCV), with errors naming the file."""
import os.path as osp
from typing import Iterator

import numpy as np


class VideoReadError(IOError):
    """A video cannot be opened or holds no frame."""


def video_id(path: str) -> str:
    """The sample id of a video: its base name without the extension
    (PySKL's ``frame_dir``)."""
    return osp.splitext(osp.basename(path))[0]


def read_frames(path: str) -> Iterator[np.ndarray]:
    """Yield the frames of ``path`` in order, as BGR uint8 (H, W, 3).

    Every decoded frame is yielded, so the i-th frame yielded is frame i of
    the video (the time axis the skeleton keeps).

    Raises:
        VideoReadError: If the file is missing, cannot be decoded or holds
            no frame.
    """
    import cv2  # OpenCV comes with mmcv / mmengine
    if not osp.isfile(path):
        raise VideoReadError(f'video not found: {path}')
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise VideoReadError(f'{path}: OpenCV cannot open this video')
        count = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            count += 1
            yield frame
        if count == 0:
            raise VideoReadError(f'{path}: no frame could be decoded')
    finally:
        cap.release()
