"""``SkeletonVisualizationHook``: MMAction2's ``VisualizationHook`` for
skeleton clips.

MMAction2's hook draws ``data_batch['inputs']`` as RGB video frames; a
skeleton batch is ``(N, clips, M, T, V, C)`` of normalised joints, bones or
motion, which is not a picture. This hook draws the clip's annotation from
the dataset instead (``sample_idx`` of the data sample), with the ground
truth and the model's scores, through the runner's visualizer::

    visualizer = dict(type='SkeletonVisualizer',
                      vis_backends=[dict(type='LocalVisBackend')])
    custom_hooks = [dict(type='SkeletonVisualizationHook', enable=True,
                         interval=50, out_dir='vis')]
"""
import os.path as osp
from typing import Optional, Sequence

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from .skeleton_visualizer import SkeletonVisualizer


def _innermost(dataset):
    while hasattr(dataset, 'dataset') and not hasattr(dataset,
                                                      'get_data_info'):
        dataset = dataset.dataset
    return dataset


@HOOKS.register_module()
class SkeletonVisualizationHook(Hook):
    """Draw every ``interval``-th validation / test clip.

    Args:
        enable (bool): Draw at all (off by default, as MMAction2's).
        interval (int): Draw samples ``0, interval, 2 interval, ...`` of the
            loop.
        out_dir (str, optional): Write ``<frame_dir>_<step>.gif`` (or
            ``out_ext``) there (relative: under the work dir) instead of
            sending frames to the visualizer's backends.
        out_ext (str): ``.gif`` or ``.mp4``.
        draw_args (dict, optional): Passed to
            :meth:`SkeletonVisualizer.add_datasample` (e.g. ``view``).
    """

    priority = 'NORMAL'

    def __init__(self, enable: bool = False, interval: int = 50,
                 out_dir: Optional[str] = None, out_ext: str = '.gif',
                 draw_args: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be positive, got {interval}')
        self.enable, self.interval = enable, interval
        self.out_dir, self.out_ext = out_dir, out_ext
        self.draw_args = dict(draw_args or {})

    def _visualizer(self) -> SkeletonVisualizer:
        vis = Visualizer.get_current_instance()
        if not isinstance(vis, SkeletonVisualizer):
            raise TypeError(
                'SkeletonVisualizationHook draws with the runner\'s '
                f'visualizer, which is a {type(vis).__name__}: set '
                "visualizer=dict(type='SkeletonVisualizer', vis_backends=["
                "dict(type='LocalVisBackend')]) in the config")
        return vis

    def _draw(self, runner, mode: str, batch_idx: int,
              outputs: Sequence, step: int) -> None:
        if not self.enable:
            return
        vis = self._visualizer()
        loader = getattr(runner, f'{mode}_dataloader')
        dataset = _innermost(loader.dataset)
        if vis.dataset_meta is None:
            vis.dataset_meta = getattr(dataset, 'metainfo', None)
        size = loader.batch_size or len(outputs)
        start = size * batch_idx
        first = -(-start // self.interval) * self.interval
        for i in range(first, start + len(outputs), self.interval):
            sample = outputs[i - start]
            idx = sample.metainfo.get('sample_idx', i)
            anno = dataset.get_data_info(idx)
            name = osp.basename(str(anno.get('frame_dir', i)))
            out_file = None
            if self.out_dir is not None:
                out_file = osp.join(runner.work_dir, self.out_dir,
                                    f'{name}_{step}{self.out_ext}')
            vis.add_datasample(name, anno, sample, step=step,
                               out_file=out_file, **self.draw_args)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, 'val', batch_idx, outputs, runner.epoch)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, 'test', batch_idx, outputs, 0)
