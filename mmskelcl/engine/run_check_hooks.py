"""Hooks that make a run's data, model and checkpoints agree, and that
keep a bank contrast from training a zero loss unnoticed.

``tools/train.py`` and ``tools/test.py`` add them to every run; a config
may list them in ``custom_hooks`` for other launchers (every shipped
config with a bank contrast lists ``MemoryBankHook``, which includes
:class:`BankContrastCheckHook`).
"""
from typing import List, Optional, Tuple

import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..models.memory import BankContrast
from ..utils.preflight import stream_of_cfg

STARVED_ACTIONS = ('raise', 'warn')


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
    test set before testing. Also stops a run whose training loader yields
    no batch (fewer clips than ``batch_size`` with ``drop_last=True``),
    which would otherwise "train" every epoch without an iteration.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check_not_empty(runner.train_dataloader)
        self._check(runner, 'train_dataloader', runner.train_dataloader)
        loop = getattr(runner, '_val_loop', None)
        if loop is not None and hasattr(loop, 'dataloader'):
            self._check(runner, 'val_dataloader', loop.dataloader)

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader', runner.test_dataloader)

    @staticmethod
    def _check_not_empty(dataloader) -> None:
        if len(dataloader) > 0:
            return
        ann = getattr(_innermost(dataloader.dataset), 'ann_file', '?')
        raise ValueError(
            f'{ann}: the training set gives {len(dataloader.sampler)} clips '
            f'per process, fewer than train_dataloader.batch_size='
            f'{dataloader.batch_size} with drop_last=True, so no epoch has '
            'an iteration; lower train_dataloader.batch_size or set '
            'train_dataloader.drop_last=False')

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


@HOOKS.register_module()
class BankContrastCheckHook(Hook):
    """Log each bank-contrast unit's anchor use per epoch; stop a run in
    which one used no anchor during a whole epoch.

    After every training epoch, for every
    :class:`~mmskelcl.models.memory.BankContrast` of the model (CACL,
    SkeletonGCL, each CSRE branch), one log line gives the fraction of
    anchors that had enough positives and negatives and the mean loss
    (summed over ranks). A unit that used no anchor in an epoch at or after
    its ``start_epoch`` trained a loss of exactly 0: with
    ``on_starved='raise'`` the run stops with one line naming the head, the
    bank size, the classes whose entries fall short and the threshold, and
    the ``--cfg-options`` that fix it; ``'warn'`` logs that line as a
    warning once per epoch and trains on.

    Args:
        on_starved (str): ``'raise'`` (default) or ``'warn'``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, on_starved: str = 'raise') -> None:
        if on_starved not in STARVED_ACTIONS:
            raise ValueError(f'on_starved must be one of {STARVED_ACTIONS},'
                             f' got {on_starved!r}')
        self.on_starved = on_starved

    def after_train_epoch(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        units = [(name, m) for name, m in model.named_modules()
                 if isinstance(m, BankContrast)]
        if not units:
            return
        stats = torch.stack([u.pop_epoch_stats() for _, u in units])
        all_reduce(stats)  # sum over ranks: every rank decides alike
        parts, starved = [], []
        for (path, unit), (anchors, used, loss_sum, steps) in zip(
                units, stats.tolist()):
            if steps == 0:
                continue
            parts.append(f'{unit.loss_name[5:]} anchors '
                         f'{used / max(anchors, 1):.3f} loss '
                         f'{loss_sum / steps:.4g}')
            if used == 0 and runner.epoch >= unit.start_epoch:
                starved.append(self.starved_line(runner, path, unit))
        if parts:
            runner.logger.info(f'Epoch {runner.epoch + 1} bank contrast: '
                               + ', '.join(parts))
        if starved and self.on_starved == 'raise':
            raise RuntimeError(' | '.join(starved))
        if starved:
            runner.logger.warning(' | '.join(starved))

    def starved_line(self, runner, path: str, unit: BankContrast) -> str:
        """The one-line diagnosis and remedy of a unit without anchors."""
        bank, sampler = unit.bank, unit.sampler
        head = path.split('.contrast')[0]
        key = f'model.{head}.sampler'
        labels = bank.labels[bank.valid & (bank.labels >= 0)]
        counts = torch.bincount(labels).tolist() if labels.numel() else []
        line = (f'{head} ({unit.loss_name}) used no anchor in epoch '
                f'{runner.epoch + 1}, so its loss was 0: bank of {bank.size}'
                f' slots ({int(bank.valid.sum())} filled)')
        if hasattr(sampler, 'starved_classes'):
            need_pos, need_neg = sampler.requirement(bank.size)
            short = sampler.starved_classes(counts, bank.size)
            shown = [f'{c}: {why}' for c, why in list(short.items())[:12]]
            if len(short) > 12:
                shown.append(f'... {len(short) - 12} more')
            shown = ', '.join(shown) or (
                'none now (the bank filled too late in the epoch)')
            line += (f', an anchor needs {need_pos} positives and '
                     f'{need_neg} negatives; classes short (class: entries)'
                     f': {shown}')
        switch = self._switch_key(runner)
        return (f'{line}. Fix: --cfg-options {key}.min_pos_policy='
                f'use_available {key}.min_neg_policy=use_available, or a '
                f'smaller {key}.num_pos / {key}.num_neg, or a larger bank '
                f'(more clips, a repeat with index_per_copy); '
                f'{switch} only warns')

    def _switch_key(self, runner) -> str:
        """How to set this hook's ``on_starved='warn'`` (by its index in
        the config's ``custom_hooks``)."""
        hooks: List = list((getattr(runner, 'cfg', None) or {}).get(
            'custom_hooks') or [])
        for i, h in enumerate(hooks):
            kind = h.get('type') if isinstance(h, dict) else None
            name = kind if isinstance(kind, str) else getattr(
                kind, '__name__', '')
            if name.split('.')[-1] == type(self).__name__:
                return f'--cfg-options custom_hooks.{i}.on_starved=warn'
        return f"on_starved='warn' on {type(self).__name__}"
