"""A training schedule in passes over the training set, as ``--cfg-options``.

One *pass* is one look at each training clip; an epoch of a config whose
training set is a ``RepeatDataset`` / ``IndexedRepeatDataset`` of ``times``
copies is ``times`` passes. :class:`Schedule` states a run's budget in
passes (the same for every method whatever its dataset repeat) and
:func:`schedule_options` turns it into the ``--cfg-options`` items that
``tools/train.py`` takes from a user: epochs, batch size, dataset repeat,
and the warm-up / lr steps converted to iterations (``LinearLR`` from
``1 / warmup_iters`` to 1, linear by iteration; ``MultiStepLR`` at the
iteration of each step pass). Other scheduler types are kept as configured
(by epoch); a warm-up or steps asked of a config without a ``LinearLR`` /
``MultiStepLR`` entry is an error, never silently ignored.
"""
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from mmengine.config import Config

from ..preflight import get_loader, leaf_datasets
from ..safe_pickle import safe_load

REPEAT_TYPES = ('RepeatDataset', 'IndexedRepeatDataset')


@dataclass
class Schedule:
    """A run's budget; ``None`` fields keep the config's value.

    Args:
        passes (int, optional): Passes over the training clips; must be a
            multiple of the dataset repeat (epochs = passes / repeat).
        repeat (int, optional): Copies of the training set per epoch.
        batch_size (int, optional): Training batch size.
        warmup_passes (float, optional): Linear warm-up length (0: none).
        lr_steps (list[float], optional): Passes after which lr x gamma.
        log_interval (int): Logger interval and log window, in iterations
            (each logged loss is the mean of the interval before it).
    """
    passes: Optional[int] = None
    repeat: Optional[int] = None
    batch_size: Optional[int] = None
    warmup_passes: Optional[float] = None
    lr_steps: Optional[List[float]] = None
    log_interval: int = 10
    extra: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def tag(self) -> str:
        """Stable text of the schedule (part of a run's identity)."""
        return json.dumps(self.to_dict(), sort_keys=True)


def train_size(cfg: Config) -> int:
    """Clips of the training split (before any repeat), read from the
    annotation file of the training loader's innermost dataset."""
    leaves = list(leaf_datasets(cfg, ('train_dataloader', )))
    if len(leaves) != 1:
        raise ValueError(f'expected one training dataset, found '
                         f'{[k for k, _ in leaves]}')
    key, ds = leaves[0]
    data = safe_load(ds['ann_file'])
    split = ds.get('split')
    if split is None:
        return len(data['annotations'])
    if split not in data.get('split', {}):
        raise ValueError(f'{ds["ann_file"]}: no split {split!r} ({key})')
    return len(data['split'][split])


def _repeat_of(cfg: Config) -> Tuple[Optional[Mapping], int]:
    ds = get_loader(cfg, 'train_dataloader').dataset
    if ds.get('type') in REPEAT_TYPES:
        return ds, int(ds.get('times', 1))
    return None, 1


def schedule_options(cfg: Config, schedule: Schedule,
                     n_train: Optional[int] = None
                     ) -> Tuple[List[str], Dict[str, Any]]:
    """``--cfg-options`` items of ``schedule`` for ``cfg`` and a summary.

    Args:
        cfg (Config): The loaded config (``--ann-file`` already applied).
        schedule (Schedule): The budget.
        n_train (int, optional): Training clips (read from the annotation
            file when not given).

    Returns:
        tuple: ``(options, resolved)``; ``options`` are ``key=value``
        strings, ``resolved`` has epochs, iters_per_epoch, total_iters,
        warmup_iters and milestones (iterations).
    """
    loader = get_loader(cfg, 'train_dataloader')
    rep_ds, repeat = _repeat_of(cfg)
    opts: List[str] = []
    if schedule.repeat is not None and schedule.repeat != repeat:
        if rep_ds is None:
            raise ValueError(f'repeat={schedule.repeat}: the config\'s '
                             'training set is not a RepeatDataset')
        repeat = schedule.repeat
        opts.append(f'train_dataloader.dataset.times={repeat}')
    batch = schedule.batch_size or int(loader.batch_size)
    if schedule.batch_size is not None:
        opts.append(f'train_dataloader.batch_size={batch}')
    n = n_train if n_train is not None else train_size(cfg)
    drop_last = bool(loader.get('drop_last', False))
    per_epoch = (n * repeat // batch if drop_last else
                 -(-n * repeat // batch))
    epochs = int(cfg.train_cfg.max_epochs)
    if schedule.passes is not None:
        if schedule.passes % repeat:
            raise ValueError(f'passes={schedule.passes} is not a multiple '
                             f'of the dataset repeat {repeat}')
        epochs = schedule.passes // repeat
        opts.append(f'train_cfg.max_epochs={epochs}')
    total = epochs * per_epoch

    def iters(passes: float) -> int:
        return int(round(passes * per_epoch / repeat))

    scheds = list(cfg.get('param_scheduler') or [])
    kinds = [s.get('type') for s in scheds]
    warmup = milestones = None
    if schedule.warmup_passes is not None:
        if 'LinearLR' not in kinds:
            if schedule.warmup_passes:
                raise ValueError(f'warm-up asked, but the config has no '
                                 f'LinearLR scheduler ({kinds})')
        else:
            i = kinds.index('LinearLR')
            warmup = iters(schedule.warmup_passes)
            if warmup < 1:
                # no warm-up: a LinearLR of factor 1 for one iteration
                opts += [f'param_scheduler.{i}.start_factor=1.0',
                         f'param_scheduler.{i}.end=1']
            else:
                opts.append(f'param_scheduler.{i}.start_factor={1 / warmup!r}')
                opts.append(f'param_scheduler.{i}.end={warmup}')
            opts += [f'param_scheduler.{i}.by_epoch=False',
                     f'param_scheduler.{i}.begin=0']
    if schedule.lr_steps is not None:
        if 'MultiStepLR' not in kinds:
            raise ValueError(f'lr steps asked, but the config has no '
                             f'MultiStepLR scheduler ({kinds})')
        i = kinds.index('MultiStepLR')
        milestones = [iters(s) for s in schedule.lr_steps]
        steps = ','.join(map(str, milestones))
        opts += [f'param_scheduler.{i}.milestones=[{steps}]',
                 f'param_scheduler.{i}.by_epoch=False',
                 f'param_scheduler.{i}.begin=0',
                 f'param_scheduler.{i}.end={total}']
    opts += [f'default_hooks.logger.interval={schedule.log_interval}',
             f'log_processor.window_size={schedule.log_interval}',
             'default_hooks.checkpoint.interval=1',
             'default_hooks.checkpoint.max_keep_ckpts=2']
    opts += list(schedule.extra)
    resolved = dict(train_clips=n, repeat=repeat, batch_size=batch,
                    epochs=epochs, iters_per_epoch=per_epoch,
                    total_iters=total, warmup_iters=warmup,
                    milestones=milestones)
    return opts, resolved
