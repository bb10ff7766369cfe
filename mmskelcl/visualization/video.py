"""Writing and reading rendered clips: GIF (Pillow through imageio) and MP4
(H.264 through imageio's bundled ffmpeg, the ``vis`` extra)."""
import os
import os.path as osp
from typing import List, Sequence

import numpy as np

VIDEO_EXTS = ('.gif', '.mp4')
_HINT = ('writing GIF / MP4 needs imageio with its ffmpeg: pip install '
         '"mmskelcl[vis]" (or pip install "imageio[ffmpeg]")')


def _imageio():
    try:
        import imageio
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError(_HINT) from err
    return imageio


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to even height and width with black (H.264 with yuv420p)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)))


def write_video(frames: Sequence[np.ndarray], path: str,
                fps: float = 10.) -> str:
    """Write RGB uint8 frames to ``path`` (``.gif`` loops forever; ``.mp4``
    is H.264, padded to even sizes). Returns ``path``.

    Raises:
        ValueError: No frame, frames of different sizes, or another suffix.
    """
    ext = osp.splitext(path)[1].lower()
    if ext not in VIDEO_EXTS:
        raise ValueError(f'{path}: write a .gif or an .mp4 file')
    if not len(frames):
        raise ValueError(f'{path}: no frame to write')
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f'{path}: frames of different shapes {shapes}')
    imageio = _imageio()
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    frames = [np.ascontiguousarray(f, dtype=np.uint8) for f in frames]
    if ext == '.gif':
        imageio.v3.imwrite(path, np.stack(frames), extension='.gif',
                           duration=1000. / fps, loop=0)
    else:
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError as err:  # pragma: no cover
            raise ImportError(_HINT) from err
        with imageio.v2.get_writer(path, format='FFMPEG', fps=fps,
                                   codec='libx264', macro_block_size=1,
                                   pixelformat='yuv420p',
                                   ffmpeg_log_level='error') as writer:
            for f in frames:
                writer.append_data(_even(f))
    return path


def read_video(path: str) -> List[np.ndarray]:
    """The RGB frames of a GIF or MP4 written by :func:`write_video`."""
    imageio = _imageio()
    if path.lower().endswith('.gif'):
        frames = imageio.v3.imread(path, index=None, extension='.gif')
        return [np.asarray(f)[..., :3] for f in frames]
    with imageio.v2.get_reader(path, format='FFMPEG') as reader:
        return [np.asarray(f)[..., :3] for f in reader]
