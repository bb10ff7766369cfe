"""``SkeletonVisualizer``: MMAction2's ``ActionVisualizer`` for skeletons.

An mmengine :class:`~mmengine.visualization.Visualizer` in MMAction2's
``VISUALIZERS`` registry, so ``visualizer=dict(type='SkeletonVisualizer',
vis_backends=[dict(type='LocalVisBackend')])`` works in a config and
:meth:`add_datasample` sends frames to the backends as MMAction2's does.
It draws skeleton clips (2D or 3D, bones from the project's layouts) with
the ground truth, prediction and top-k scores, per-joint and per-frame
weights (see :mod:`.weights`), on a blank canvas or on video frames.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmaction.registry import VISUALIZERS
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from . import draw as D
from .video import write_video

BACKGROUND = (24, 24, 24)


def label_lines(classes: Optional[Sequence[str]] = None,
                gt_label: Optional[int] = None,
                scores: Optional[np.ndarray] = None,
                topk: int = 3) -> List[str]:
    """``GT: name``, ``Pred: name (score)`` and the top-k lines."""
    def name(i):
        return f'{i} {classes[i]}' if classes is not None else f'class {i}'
    lines = []
    if gt_label is not None and gt_label >= 0:
        lines.append(f'GT: {name(int(gt_label))}')
    if scores is not None:
        scores = np.asarray(scores, np.float64).reshape(-1)
        order = np.argsort(-scores, kind='stable')
        lines.append(f'Pred: {name(int(order[0]))} ({scores[order[0]]:.2f})')
        if topk > 1:
            lines += [f'  {r}. {name(int(i))} {scores[i]:.2f}'
                      for r, i in enumerate(order[:topk], 1)]
    return lines


@VISUALIZERS.register_module()
class SkeletonVisualizer(Visualizer):
    """Render skeleton clips to frames, GIF or MP4.

    Args:
        name (str): Instance name. vis_backends (list, optional), save_dir
            (str, optional): as mmengine's ``Visualizer``.
        layout (str, optional): Layout name (``coco``, ``nturgb+d``,
            ``nwucla``, ``openpose``); default: from the joint count.
        view (tuple): ``(azimuth, elevation)`` degrees of 3D clips.
        size (int, optional): Canvas side of 3D clips and the longer side of
            2D ones (2D default: their ``img_shape``, so pixels stay put).
        fit_2d (bool): Fit 2D clips to a square canvas as 3D ones (the
            person fills the frame) instead of keeping their image.
        radius (int), thickness (int): Joint radius and bone width.
        fps (float): Frame rate of written files.
        topk (int): Top-k scores drawn by :meth:`add_datasample`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[List[Dict]] = None,
                 save_dir: Optional[str] = None,
                 layout: Optional[str] = None,
                 view: Tuple[float, float] = (0., 0.),
                 size: Optional[int] = None,
                 fit_2d: bool = False,
                 radius: int = 4,
                 thickness: int = 2,
                 fps: float = 10.,
                 topk: int = 3) -> None:
        super().__init__(name=name, image=None, vis_backends=vis_backends,
                         save_dir=save_dir)
        self.layout, self.view, self.size = layout, tuple(view), size
        self.fit_2d = fit_2d
        self.radius, self.thickness = radius, thickness
        self.fps, self.topk = fps, topk

    # ----------------------------------------------------------- rendering
    def _canvas(self, keypoint: np.ndarray, valid: np.ndarray,
                img_shape: Optional[Sequence[int]],
                background: Optional[Sequence[np.ndarray]],
                view: Tuple[float, float]):
        """Pixel coordinates ``(M, T, V, 2)`` and the blank canvas size."""
        if keypoint.shape[-1] >= 3:  # 3D: a view of the clip, fitted
            size = self.size or 480
            return D.fit_to_canvas(D.project(keypoint[..., :3], *view),
                                   valid, (size, size)), (size, size)
        xy = keypoint[..., :2].astype(np.float64)
        if background is not None:
            return xy, background[0].shape[:2]
        if img_shape is None or self.fit_2d:  # 2D fitted too
            size = self.size or 480
            return D.fit_to_canvas(xy, valid, (size, size)), (size, size)
        h, w = int(img_shape[0]), int(img_shape[1])
        scale = 1. if self.size is None else self.size / max(h, w)
        return xy * scale, (int(round(h * scale)), int(round(w * scale)))

    def render(self,
               keypoint: np.ndarray,
               keypoint_score: Optional[np.ndarray] = None,
               img_shape: Optional[Sequence[int]] = None,
               texts: Sequence[str] = (),
               frame_texts: Optional[Sequence[Sequence[str]]] = None,
               joint_weights: Optional[np.ndarray] = None,
               frame_weights: Optional[np.ndarray] = None,
               background: Optional[Sequence[np.ndarray]] = None,
               layout: Optional[str] = None,
               view: Optional[Tuple[float, float]] = None,
               frame_counter: bool = True) -> List[np.ndarray]:
        """Frames of one clip.

        On a blank canvas the text goes in a strip above it (so the
        skeleton's pixels are the canvas's, shifted down by the strip);
        on ``background`` frames it is drawn over the top left corner.

        Args:
            keypoint (np.ndarray): ``(M, T, V, C)``: ``C = 2`` pixels (2D)
                or ``C = 3`` world coordinates (3D).
            keypoint_score (np.ndarray, optional): ``(M, T, V)``; joints
                under :data:`~.draw.SCORE_THR` are not drawn.
            img_shape (Sequence[int], optional): ``(h, w)`` of a 2D clip.
            texts (Sequence[str]): Lines on every frame (labels).
            frame_texts (Sequence[Sequence[str]], optional): Extra lines per
                frame (e.g. the label of a sliding window).
            joint_weights (np.ndarray, optional): ``(V,)`` or ``(T, V)`` in
                [0, 1]: joint colour and size.
            frame_weights (np.ndarray, optional): ``(T,)`` in [0, 1]: the
                time bar.
            background (Sequence[np.ndarray], optional): ``T`` RGB frames
                to draw on (2D pixel coordinates), e.g. the video.
            layout (str, optional), view (tuple, optional): Override the
                visualizer's.
            frame_counter (bool): Add ``frame t/T`` to the text.

        Returns:
            list[np.ndarray]: ``T`` RGB uint8 frames.
        """
        keypoint = np.asarray(keypoint, np.float64)
        if keypoint.ndim != 4:
            raise ValueError('keypoint must be (M, T, V, C), got shape '
                             f'{keypoint.shape}')
        _, T, V, _ = keypoint.shape
        if background is not None and len(background) != T:
            raise ValueError(f'{len(background)} background frames for a '
                             f'clip of {T} frames')
        bones = D.bones_of(D.layout_of(V, layout or self.layout))
        valid = D.valid_joints(keypoint, keypoint_score)
        xy, (h, w) = self._canvas(keypoint, valid, img_shape, background,
                                  view or self.view)
        jw = None if joint_weights is None else np.asarray(joint_weights)
        num_lines = len(texts) + int(frame_counter) + max(
            (len(f) for f in frame_texts or ()), default=0)
        strip = 0 if background is not None else D.text_block_height(
            num_lines, D.text_scale(h, w))
        frames = []
        for t in range(T):
            if background is not None:
                frame = np.array(background[t], np.uint8, copy=True)
            else:
                frame = np.empty((h, w, 3), np.uint8)
                frame[:] = BACKGROUND
            D.draw_skeleton(frame, xy[:, t], valid[:, t], bones,
                            None if jw is None else
                            (jw[t] if jw.ndim == 2 else jw),
                            self.radius, self.thickness)
            lines = list(texts)
            if frame_texts is not None:
                lines += list(frame_texts[t])
            if frame_counter:
                lines.append(f'frame {t + 1}/{T}')
            D.draw_time_bar(frame, t, T, frame_weights)
            if strip:
                head = np.empty((strip, w, 3), np.uint8)
                head[:] = BACKGROUND
                D.draw_texts(head, lines, D.text_scale(h, w))
                frame = np.concatenate([head, frame])
            else:
                D.draw_texts(frame, lines)
            frames.append(frame)
        return frames

    # ------------------------------------------------ mmengine interface
    @master_only
    def add_datasample(self,
                       name: str,
                       skeleton: Mapping,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       draw_score: bool = True,
                       step: int = 0,
                       out_file: Optional[str] = None,
                       **render_kwargs) -> List[np.ndarray]:
        """Draw an annotation (a skeleton pickle's dict) with the labels of
        ``data_sample`` (``gt_label``, ``pred_score``: an
        ``ActionDataSample``) and write it to ``out_file`` (``.gif`` /
        ``.mp4``), or else to every backend (one image per frame,
        ``<name>_frame<t>``) as ``ActionVisualizer`` does.

        Returns:
            list[np.ndarray]: The frames.
        """
        classes = (self.dataset_meta or {}).get('classes')
        gt, scores = skeleton.get('label'), None
        if data_sample is not None:
            if 'gt_label' in data_sample:
                gt = int(np.asarray(data_sample.gt_label).reshape(-1)[0])
            if 'pred_score' in data_sample:
                scores = np.asarray(data_sample.pred_score.detach().cpu())
        texts = label_lines(classes, gt if draw_gt else None,
                            scores if draw_pred else None,
                            self.topk if draw_score else 1)
        texts = list(render_kwargs.pop('texts', ())) + texts
        frames = self.render(skeleton['keypoint'],
                             skeleton.get('keypoint_score'),
                             skeleton.get('img_shape'), texts=texts,
                             **render_kwargs)
        if out_file is not None:
            write_video(frames, out_file, self.fps)
        else:
            for t, frame in enumerate(frames):
                self.add_image(f'{name}_frame{t:04d}', frame, step)
        return frames
