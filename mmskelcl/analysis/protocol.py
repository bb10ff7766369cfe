"""Which checkpoint was evaluated, and was it selected on the test split?

The released code of the papers this project reproduces keeps the best
epoch measured on the test split. This project reports the last checkpoint
by default and selects a best epoch only on a validation split that is not
the test split. :func:`describe_protocol` states, for a config and the
checkpoint that was tested, which of these happened, so the report says it
next to the numbers.

A config declares that its dataset has no validation split apart from the
test split with ``val_is_test = True`` (top level); without the flag the
two splits are compared (annotation file and split name of the innermost
dataset of ``val_dataloader`` and ``test_dataloader``).
"""
import os.path as osp
import re
from typing import Any, Mapping, Optional, Tuple

_EPOCH = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def _inner_dataset(loader: Any) -> Optional[Mapping]:
    """The innermost dataset config of a dataloader config."""
    if not isinstance(loader, Mapping):
        return None
    ds = loader.get('dataset')
    while isinstance(ds, Mapping) and isinstance(ds.get('dataset'), Mapping):
        ds = ds['dataset']
    return ds if isinstance(ds, Mapping) else None


def split_of(loader: Any) -> Optional[Tuple[str, str]]:
    """``(ann_file, split)`` of a dataloader config, or None."""
    ds = _inner_dataset(loader)
    if ds is None:
        return None
    return str(ds.get('ann_file')), str(ds.get('split'))


def val_is_test(cfg: Mapping) -> Optional[bool]:
    """Whether the config validates on its test split.

    Returns:
        bool | None: The config's ``val_is_test`` flag when set; else
        whether the val and test datasets are the same file and split;
        None when the config has no val or no test dataloader.
    """
    flag = cfg.get('val_is_test')
    if flag is not None:
        return bool(flag)
    val, test = (split_of(cfg.get('val_dataloader')),
                 split_of(cfg.get('test_dataloader')))
    if val is None or test is None:
        return None
    return val == test


def _max_epochs(cfg: Mapping) -> Optional[int]:
    train_cfg = cfg.get('train_cfg') or {}
    value = train_cfg.get('max_epochs') or train_cfg.get('max_iters')
    return int(value) if value else None


def _trained_max_epochs(checkpoint: str) -> Optional[int]:
    """``max_epochs`` of the schedule a checkpoint was trained with (the
    config mmengine stores in ``meta['cfg']``; a run may override the
    config file's schedule); None when unreadable."""
    if not osp.isfile(str(checkpoint)):
        return None
    try:
        import torch
        from mmengine.config import Config
        meta = torch.load(str(checkpoint), map_location='cpu',
                          weights_only=False).get('meta') or {}
        return _max_epochs(Config.fromstring(meta['cfg'], '.py'))
    except Exception:  # not an mmengine checkpoint: use the config
        return None


def describe_checkpoint(cfg: Optional[Mapping], checkpoint: str) -> str:
    """How a checkpoint was chosen, from its file name and the config."""
    name = osp.basename(str(checkpoint))
    if name.startswith('best_'):
        test_split = split_of((cfg or {}).get('test_dataloader'))
        same = val_is_test(cfg) if cfg is not None else None
        if same:
            where = f"split '{test_split[1]}'" if test_split else 'it'
            return (f'{name}: best epoch selected on the test split '
                    f'({where} is both val and test); optimistic, not a '
                    'held-out result')
        if same is None:
            return (f'{name}: best epoch selected on a validation split '
                    '(unknown whether it is the test split)')
        val_split = split_of(cfg.get('val_dataloader'))
        return (f"{name}: best epoch selected on validation split "
                f"'{val_split[1]}', tested on '{test_split[1]}'")
    match = _EPOCH.match(name)
    if match:
        kind, n = match.group(1), int(match.group(2))
        total = _trained_max_epochs(checkpoint)
        if total is None and cfg is not None:
            total = _max_epochs(cfg)
        if total is None:
            return f'{name}: {kind} {n} (last of the run unknown)'
        if n == total:
            text = f'{name}: last checkpoint ({kind} {n} of {total})'
        else:
            text = (f'{name}: {kind} {n} of {total}, not the last '
                    'checkpoint')
        return text
    return f'{name}: how this checkpoint was chosen is unknown'


def split_note(cfg: Optional[Mapping]) -> str:
    """Whether the config's validation split is its test split, in words."""
    same = val_is_test(cfg) if cfg is not None else None
    if same:
        return ('this dataset has no validation split apart from the test '
                'split: no checkpoint may be selected on it')
    if same is None:
        return 'val/test splits unknown'
    return 'validation split differs from the test split'


def describe_protocol(cfg: Optional[Mapping],
                      checkpoint: Optional[str]) -> str:
    """One line on checkpoint selection and the val/test splits.

    Args:
        cfg (Mapping, optional): The (test) config; None if unknown.
        checkpoint (str, optional): The tested checkpoint path.

    Returns:
        str: E.g. ``"epoch_180.pth: last checkpoint (epoch 180 of 180);
        this dataset has no validation split apart from the test split:
        ..."``.
    """
    first = describe_checkpoint(cfg, checkpoint) if checkpoint else \
        'checkpoint unknown'
    return f'{first}; {split_note(cfg)}'


def _load_cfg(meta: Mapping) -> Optional[Mapping]:
    config = meta.get('config')
    if config and osp.isfile(str(config)):
        from mmengine.config import Config
        return Config.fromfile(str(config))
    return None


def describe_score_meta(meta: Mapping) -> str:
    """Protocol text for the metadata of a loaded score set.

    Reads ``config`` and ``checkpoint`` as ``tools/test.py`` stores them;
    for fused scores, those of every stream (``stream_meta``): one line per
    stream, then the split note(s) once.
    """
    if 'stream_meta' in meta:
        lines, notes = [], []
        for name, stream_meta in meta['stream_meta'].items():
            cfg = _load_cfg(stream_meta)
            ckpt = stream_meta.get('checkpoint')
            lines.append(f'{name}: ' + (describe_checkpoint(cfg, ckpt)
                                        if ckpt else 'checkpoint unknown'))
            note = split_note(cfg)
            if note not in notes:
                notes.append(note)
        return '\n'.join(lines + notes) if lines else 'unknown'
    if not meta.get('config') and not meta.get('checkpoint'):
        return ('unknown (the score file does not say which config and '
                'checkpoint produced it; tools/test.py --dump records them)')
    return describe_protocol(_load_cfg(meta), meta.get('checkpoint'))
