"""Hooks that make a run's data, model and checkpoints agree.

``tools/train.py`` and ``tools/test.py`` add both to every run; a config
may list them in ``custom_hooks`` for other launchers.
"""
from typing import Optional, Tuple

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..utils.preflight import stream_of_cfg


def _innermost(dataset):
    """The dataset under ``RepeatDataset``-style wrappers."""
    while hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


def label_range(dataset) -> Optional[Tuple[int, int]]:
    """``(min, max)`` label of a built dataset; None when unknown.

    ``SkeletonDataset`` records it while loading (the data list is
    serialized afterwards); concatenated datasets combine their parts.
    """
    if hasattr(dataset, 'datasets'):
        parts = [label_range(d) for d in dataset.datasets]
        if parts and all(parts):
            return min(p[0] for p in parts), max(p[1] for p in parts)
        return None
    return getattr(_innermost(dataset), 'label_range', None)


@HOOKS.register_module()
class ClassCountHook(Hook):
    """Stop a run whose labels do not fit the classifier head.

    A dataset without ``num_classes`` whose labels reach ``K`` or beyond for
    a ``K``-class head would otherwise fail deep inside the loss
    (``IndexError: Target K is out of bounds``, a device-side assert on a
    GPU). Checked on the train and val sets before training and on the
    test set before testing.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader', runner.train_dataloader)
        loop = getattr(runner, '_val_loop', None)
        if loop is not None and hasattr(loop, 'dataloader'):
            self._check(runner, 'val_dataloader', loop.dataloader)

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader', runner.test_dataloader)

    @staticmethod
    def _check(runner, name: str, dataloader) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        k = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
        found = label_range(dataloader.dataset)
        if k is None or found is None or found[1] < k:
            return
        ann = getattr(_innermost(dataloader.dataset), 'ann_file', '?')
        raise ValueError(
            f'{ann}: labels {found[0]}-{found[1]} in the {name} set but the '
            f'head has {k} classes; set num_classes={found[1] + 1} on the '
            'datasets, model.cls_head and every model.aux_heads.* (or pass '
            f'--num-classes {found[1] + 1} to tools/train.py / test.py)')


@HOOKS.register_module()
class StreamMetaHook(Hook):
    """Record the trained stream (``'j'``, ``'b'``, ``'jm'``, ``'bm'``) as
    ``checkpoint['meta']['stream']``, so ``tools/test.py`` can refuse a
    checkpoint tested with another stream's config."""

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        stream = stream_of_cfg(runner.cfg, 'train_dataloader')
        if stream is not None:
            checkpoint.setdefault('meta', {})['stream'] = stream
