"""Up-front checks of ``tools/train.py`` and ``tools/test.py``.

Everything here reads configs and files before a Runner exists, so a bad
input is reported in one short message, the tool exits non-zero and no
work dir is created:

* the config, annotation files and checkpoints exist (every stream of a
  multi-stream test, before the first one runs);
* the datasets' ``num_classes`` agree with the head and the auxiliary heads;
* a checkpoint sets every weight of the model (auxiliary heads excepted)
  and was trained on the stream the config tests.

:func:`apply_data_overrides` implements ``--ann-file`` / ``--num-classes``
(every loader, the head, every auxiliary head) and :func:`cap_num_workers`
keeps loader workers within the machine's cores.
"""
import os
import os.path as osp
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from mmengine.config import Config

# Every loader of a config, as dotted keys; the kNN bank of a
# self-supervised pretraining config lives in its validation loop.
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader',
           'val_cfg.bank_dataloader')


def get_loader(cfg: Mapping, key: str) -> Any:
    """The loader config at dotted ``key`` (``None`` when absent)."""
    node: Any = cfg
    for part in key.split('.'):
        if not (isinstance(node, Mapping) or isinstance(node, Config)):
            return None
        node = node.get(part)
    return node


class PreflightError(Exception):
    """An input problem found before the Runner starts; ``str`` is the
    whole message (one line per problem)."""


def leaf_datasets(cfg: Config, loaders: Tuple[str, ...] = LOADERS
                  ) -> Iterator[Tuple[str, Mapping]]:
    """``(key, dataset cfg)`` of every innermost dataset of the loaders.

    The key is the dotted config path of the dataset, e.g.
    ``train_dataloader.dataset.dataset`` under a ``RepeatDataset``.
    """
    def walk(node: Any, key: str) -> Iterator[Tuple[str, Mapping]]:
        if isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                yield from walk(item, f'{key}.{i}')
        elif isinstance(node, Mapping):
            inner = [k for k in ('dataset', 'datasets') if node.get(k)]
            if not inner:
                yield key, node
            for k in inner:
                yield from walk(node[k], f'{key}.{k}')

    for loader in loaders:
        dataloader = get_loader(cfg, loader)
        if isinstance(dataloader, Mapping) and dataloader.get('dataset'):
            yield from walk(dataloader['dataset'], f'{loader}.dataset')


def head_class_counts(cfg: Config) -> Dict[str, int]:
    """``{config key: num_classes}`` of the classifier and aux heads."""
    model = cfg.get('model') or {}
    counts = {}
    head = model.get('cls_head') or {}
    if head.get('num_classes') is not None:
        counts['model.cls_head.num_classes'] = int(head['num_classes'])
    for name, aux in (model.get('aux_heads') or {}).items():
        if isinstance(aux, Mapping) and aux.get('num_classes') is not None:
            counts[f'model.aux_heads.{name}.num_classes'] = int(
                aux['num_classes'])
    return counts


def apply_data_overrides(cfg: Config,
                         ann_file: Optional[str] = None,
                         num_classes: Optional[int] = None) -> Config:
    """Point every loader at ``ann_file`` and set ``num_classes`` on every
    dataset, the classifier head and every auxiliary head (in place).

    The head's ``init_cfg.std`` of the ``(2 / K) ** 0.5`` recipe follows
    ``num_classes``. The datasets' ``missing_hint`` (how to get the shipped
    dataset) is dropped with a new ``ann_file``.
    """
    if num_classes is not None and num_classes < 1:
        raise PreflightError(f'--num-classes must be >= 1, got {num_classes}')
    for _, ds in leaf_datasets(cfg):
        if ann_file is not None:
            ds['ann_file'] = ann_file
            ds.pop('missing_hint', None)
        if num_classes is not None:
            ds['num_classes'] = num_classes
    if num_classes is not None:
        model = cfg.model
        old = (model.get('cls_head') or {}).get('num_classes')
        if model.get('cls_head') is not None:
            model.cls_head.num_classes = num_classes
            init = model.cls_head.get('init_cfg')
            if isinstance(init, Mapping) and old and \
                    abs(init.get('std', 0) - (2 / old)**0.5) < 1e-9:
                init['std'] = (2 / num_classes)**0.5
        for aux in (model.get('aux_heads') or {}).values():
            if isinstance(aux, Mapping) and 'num_classes' in aux:
                aux['num_classes'] = num_classes
        if 'num_classes' in cfg:
            cfg.num_classes = num_classes
    return cfg


def cap_num_workers(cfg: Config, cpus: Optional[int] = None) -> Config:
    """Limit every loader's ``num_workers`` to the number of CPU cores."""
    cpus = cpus or os.cpu_count() or 1
    for loader in LOADERS:
        dataloader = get_loader(cfg, loader)
        if isinstance(dataloader, Mapping) and \
                dataloader.get('num_workers', 0) > cpus:
            dataloader['num_workers'] = cpus
    return cfg


def input_problems(cfg: Config, config: str,
                   loaders: Tuple[str, ...] = LOADERS) -> List[str]:
    """Missing annotation files and class-count mismatches of a config."""
    problems = []
    seen = set()
    for key, ds in leaf_datasets(cfg, loaders):
        ann = ds.get('ann_file')
        if isinstance(ann, str) and ann not in seen and not osp.isfile(ann):
            seen.add(ann)
            hint = ds.get('missing_hint')
            problems.append(
                f'{config}: annotation file not found: {ann} ({key}.ann_file)'
                + (f'\n  {hint}' if hint else '') +
                '\n  For your own pickle pass --ann-file PATH '
                '(and --num-classes K).')
    heads = head_class_counts(cfg)
    if len(set(heads.values())) > 1:
        problems.append(
            f'{config}: the heads disagree on the class count: ' + ', '.join(
                f'{h}={n}' for h, n in heads.items()) +
            '; set them to the same count (or pass --num-classes K)')
    for key, ds in leaf_datasets(cfg, loaders):
        k = ds.get('num_classes')
        wrong = {h: n for h, n in heads.items() if k is not None and n != k}
        if wrong:
            problems.append(
                f'{config}: {key}.num_classes={k} but ' + ', '.join(
                    f'{h}={n}' for h, n in wrong.items()) +
                f'; set them to the same count (--num-classes {k} sets '
                'every loader and head)')
            break
    return problems


def stream_of_cfg(cfg: Config, loader: str = 'test_dataloader'
                  ) -> Optional[str]:
    """The stream a config feeds (its ``loader``'s dataset ``stream``, else
    the top-level ``stream`` variable); None if it names none."""
    for _, ds in leaf_datasets(cfg, (loader, )):
        if ds.get('stream') is not None:
            return _stream_name(ds['stream'])
    return _stream_name(cfg.get('stream'))


def _stream_name(stream: Any) -> Optional[str]:
    if stream is None:
        return None
    return stream if isinstance(stream, str) else '+'.join(map(str, stream))


def stream_of_checkpoint(meta: Mapping) -> Optional[str]:
    """The stream a checkpoint was trained on: ``meta['stream']`` (written
    by :class:`~mmskelcl.engine.StreamMetaHook`), else the training loader
    (or the ``stream`` variable) of the config text mmengine stores in
    ``meta['cfg']``, read as data, never executed
    (:func:`~mmskelcl.utils.config_text.read_config_text`)."""
    if meta.get('stream') is not None:
        return _stream_name(meta['stream'])
    from .config_text import read_config_text
    return stream_of_cfg(read_config_text(meta.get('cfg'))[0],
                         'train_dataloader')


def checkpoint_problems(cfg: Config, config: str, checkpoint: str,
                        allow_stream_mismatch: bool = False) -> List[str]:
    """Whether ``checkpoint`` sets the whole inference model of ``cfg``
    (auxiliary-head keys are training-only and excepted) and was trained
    on the stream the config tests."""
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        return [f'{config}: checkpoint not found: {checkpoint}']
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    from ..apis.inference import inference_model_cfg, load_checkpoint_state
    from ..models.recognizers.aux_recognizer import strip_aux_state
    try:
        state, meta = load_checkpoint_state(checkpoint)
    except Exception as err:
        return [f'{config}: cannot read checkpoint {checkpoint}: {err}']
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(inference_model_cfg(cfg.model))
    own = model.state_dict()
    state = strip_aux_state(state)
    missing = [k for k in own if k not in state]
    shapes = [k for k in own if k in state and
              tuple(state[k].shape) != tuple(own[k].shape)]
    problems = []
    if missing or shapes:
        problems.append(
            f'{config}: checkpoint {checkpoint} leaves {len(missing)} of '
            f'{len(own)} model weights unset and {len(shapes)} of another '
            f'shape (e.g. {(missing + shapes)[:3]}); it was trained with '
            'another model: test it with the config it was trained with')
    trained, tested = stream_of_checkpoint(meta), stream_of_cfg(cfg)
    if trained and tested and trained != tested and \
            not allow_stream_mismatch:
        problems.append(
            f'{config}: tests stream {tested!r} but checkpoint {checkpoint} '
            f'was trained on stream {trained!r}; use the {trained!r} config '
            '(or pass --allow-stream-mismatch)')
    return problems


def raise_problems(problems: List[str]) -> None:
    """Raise one :class:`PreflightError` listing every problem."""
    if problems:
        raise PreflightError('\n'.join(f'error: {p}' for p in problems))


def add_run_check_hooks(cfg: Config) -> Config:
    """Append ``ClassCountHook``, ``StreamMetaHook`` and
    ``BankContrastCheckHook`` to ``cfg.custom_hooks`` unless the config
    lists them already (``MemoryBankHook`` includes the last)."""
    hooks = list(cfg.get('custom_hooks') or [])
    names = {str(h.get('type')).split('.')[-1] for h in hooks
             if isinstance(h, Mapping)}
    if 'MemoryBankHook' in names:
        names.add('BankContrastCheckHook')
    for name in ('ClassCountHook', 'StreamMetaHook',
                 'BankContrastCheckHook'):
        if name not in names:
            hooks.append(dict(type=name))
    cfg.custom_hooks = hooks
    return cfg
