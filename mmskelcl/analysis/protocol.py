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

Nothing a score file names is run: the tested checkpoint is opened with the
safe checkpoint loader, the config text it stores (``meta['cfg']``) and an
older dump's config file are read as data
(:func:`~mmskelcl.utils.config_text.read_config_text`), and new dumps carry
the few values needed as data (:func:`protocol_cfg`). A refused file or a
config holding code gives one :class:`UntrustedInputWarning` line.
"""
import os.path as osp
import re
import warnings
from typing import Any, Dict, Mapping, Optional, Tuple

from mmskelcl.utils.config_text import MAX_TEXT, read_config_text

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


def _count(value: Any) -> Optional[int]:
    """A positive finite epoch/iteration count as int, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 < value < float('inf'):
        return None
    return int(value)


def _max_epochs(cfg: Mapping) -> Optional[int]:
    train_cfg = cfg.get('train_cfg') or {}
    if not isinstance(train_cfg, Mapping):
        return None
    return _count(train_cfg.get('max_epochs') or train_cfg.get('max_iters'))


def _one_line(error: BaseException) -> str:
    """The line of a loader's error that says what was refused."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    said = next((ln for ln in lines if any(
        word in ln.lower() for word in ('refused', 'unsupported', 'error:'))),
        lines[0] if lines else '')
    said = f'{type(error).__name__}: {said}' if said else \
        type(error).__name__
    return said if len(said) <= 200 else said[:197] + '...'


class UntrustedInputWarning(UserWarning):
    """A file named in a score file was refused or held code (not run)."""


def _warn(message: str) -> None:
    warnings.warn(message, UntrustedInputWarning, stacklevel=3)


def _data_of_text(text: Any, where: str) -> Dict[str, Any]:
    """The plain-data assignments of config text, warning (one line) when
    some of it is code, which is left out and never run."""
    values, not_data = read_config_text(text)
    if not_data:
        more = f' (+{len(not_data) - 1} more)' if len(not_data) > 1 else ''
        _warn(f'{where}: not plain data, not run: {not_data[0]}{more}')
    return values


def _trained_max_epochs(checkpoint: str) -> Optional[int]:
    """``max_epochs`` of the schedule a checkpoint was trained with (the
    config mmengine stores in ``meta['cfg']``; a run may override the
    config file's schedule); None when unreadable.

    The checkpoint is opened with the project's safe loader and the stored
    config text is read as data (:mod:`mmskelcl.utils.config_text`): nothing
    in either is run.
    """
    if not osp.isfile(str(checkpoint)):
        return None
    from mmskelcl.compat.checkpoint import load_checkpoint_file
    try:
        ckpt = load_checkpoint_file(str(checkpoint), map_location='cpu')
    except Exception as e:  # refused or not a checkpoint
        _warn(f'{checkpoint}: not read, its trained schedule is not shown '
              f'({_one_line(e)})')
        return None
    meta = ckpt.get('meta') if isinstance(ckpt, Mapping) else None
    text = meta.get('cfg') if isinstance(meta, Mapping) else None
    if not isinstance(text, str):  # not an mmengine checkpoint
        return None
    return _max_epochs(_data_of_text(text, f"{checkpoint}: meta['cfg']"))


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


def protocol_cfg(cfg: Mapping) -> Dict[str, Any]:
    """The parts of a config :func:`describe_protocol` reads, as plain data.

    ``tools/test.py --dump`` stores them in each stream's meta
    (``protocol_cfg``), so ``report.py`` never has to open the config.

    Returns:
        dict: ``val_is_test`` (if set), ``val_dataloader`` /
        ``test_dataloader`` as ``dict(dataset=dict(ann_file, split))`` and
        ``train_cfg`` with ``max_epochs`` / ``max_iters``.
    """
    out: Dict[str, Any] = {}
    if cfg.get('val_is_test') is not None:
        out['val_is_test'] = bool(cfg['val_is_test'])
    for loader in ('val_dataloader', 'test_dataloader'):
        ds = _inner_dataset(cfg.get(loader))
        if ds is not None:
            out[loader] = dict(dataset={
                k: None if ds.get(k) is None else str(ds[k])
                for k in ('ann_file', 'split')})
    train_cfg = cfg.get('train_cfg') or {}
    out['train_cfg'] = {k: _count(train_cfg.get(k))
                        for k in ('max_epochs', 'max_iters')
                        if _count(train_cfg.get(k)) is not None}
    return out


def _load_cfg(meta: Mapping) -> Optional[Mapping]:
    """What a score file's meta says of its config, as data: the
    ``protocol_cfg`` ``tools/test.py`` records, else (older dumps) the
    plain-data assignments of the config file it names, read as text (its
    ``_base_`` files are not followed; nothing is run)."""
    if isinstance(meta.get('protocol_cfg'), Mapping):
        return meta['protocol_cfg']
    config = meta.get('config')
    if not config or not osp.isfile(str(config)):
        return None
    with open(str(config), 'rb') as f:
        raw = f.read(MAX_TEXT + 1)
    values = _data_of_text(raw.decode('utf-8', errors='replace'),
                           str(config))
    if values.get('_base_'):
        _warn(f'{config}: inherits _base_ files, which are not followed '
              '(only its own plain-data lines are read); dumps of '
              'tools/test.py record the splits and schedule as data')
    return values


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
