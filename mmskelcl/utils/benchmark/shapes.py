"""Config inspection and fake inputs of the benchmark.

Only the config is read: the input shape ``(M, T, V, C)`` and the number of
classes are inferred from the training pipeline and the model config, and
batches of random inputs are built in the data preprocessor's format.
"""
import copy
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config

ConfigLike = Union[str, dict, Config]
Shape = Tuple[int, int, int, int]

# ---------------------------------------------------------------------------
# Config inspection
# ---------------------------------------------------------------------------


def load_config(config: ConfigLike,
                cfg_options: Optional[dict] = None) -> Config:
    """Load a config from a path, a dict or a :class:`Config`.

    ``custom_imports`` of dict configs are imported too (files get them
    imported by :meth:`Config.fromfile`).

    Args:
        config (str | dict | Config): The config.
        cfg_options (dict, optional): Overrides merged into the config
            (``--cfg-options`` style keys). Defaults to None.

    Returns:
        Config: A copy of the config with the overrides applied.
    """
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif isinstance(config, dict):
        cfg = Config(copy.deepcopy(config))
        imports = cfg.get('custom_imports')
        if imports:
            from mmengine.utils import import_modules_from_strings
            import_modules_from_strings(**imports)
    else:
        cfg = Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _walk(obj: Any) -> Iterator[dict]:
    """Yield every dict nested in ``obj`` (depth first, in order)."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _walk(value)


def _type_name(transform: dict) -> str:
    """Bare type name of a registry config (``'mmaction.X'`` -> ``'X'``)."""
    t = transform.get('type', '')
    if not isinstance(t, str):
        t = getattr(t, '__name__', str(t))
    return t.rsplit('.', 1)[-1]


def _train_pipeline(cfg: Config) -> List[dict]:
    """Transforms of the training pipeline (searched in the dataloader)."""
    transforms: List[dict] = []
    for d in _walk(cfg.get('train_dataloader', {})):
        pipeline = d.get('pipeline')
        if isinstance(pipeline, (list, tuple)):
            transforms.extend(t for t in pipeline if isinstance(t, dict))
    if not transforms and isinstance(cfg.get('train_pipeline'), (list, tuple)):
        transforms = [t for t in cfg.train_pipeline if isinstance(t, dict)]
    return transforms


def _find_graph_backbone(cfg: Config) -> Optional[dict]:
    """The first model sub-config that has a ``graph_cfg`` (the backbone)."""
    model = cfg.get('model', {})
    backbone = model.get('backbone') if isinstance(model, dict) else None
    for d in _walk(backbone if backbone is not None else model):
        if 'graph_cfg' in d:
            return d
    for d in _walk(model):
        if 'graph_cfg' in d:
            return d
    return None


def infer_input_shape(cfg: Config) -> Shape:
    """Infer the per-sample input shape ``(M, T, V, C)`` from a config.

    * ``T``: ``clip_len`` of the training pipeline transform that has one
      (``UniformSampleFrames`` or any other).
    * ``M``: ``num_person`` of ``FormatGCNInput`` (its default, 2, when the
      transform does not set it).
    * ``V``: the backbone's ``graph_cfg.layout``: a layout name looked up in
      :data:`mmskelcl.structures.layouts.NUM_JOINTS` (or registered in
      ``EXTRA_LAYOUTS``), or a dict with ``num_node``.
    * ``C``: the backbone's ``in_channels`` (default 3).

    Args:
        cfg (Config): The config.

    Returns:
        tuple[int]: ``(num_person, clip_len, num_joints, in_channels)``.

    Raises:
        ValueError: If a dimension cannot be inferred (pass ``shape``
            explicitly, ``--shape M T V C`` on the command line).
    """
    from mmskelcl.structures.layouts import EXTRA_LAYOUTS, NUM_JOINTS
    hint = ' Pass the input shape explicitly (--shape M T V C).'
    pipeline = _train_pipeline(cfg)
    if not pipeline:
        raise ValueError('Cannot infer the input shape: the config has no '
                         'train_dataloader pipeline.' + hint)
    clip_lens = [t['clip_len'] for t in pipeline if 'clip_len' in t]
    if not clip_lens:
        raise ValueError('Cannot infer clip_len: no transform of the train '
                         'pipeline has a `clip_len`.' + hint)
    formats = [t for t in pipeline if _type_name(t) == 'FormatGCNInput']
    if not formats:
        raise ValueError('Cannot infer num_person: the train pipeline has '
                         'no FormatGCNInput.' + hint)
    num_person = formats[0].get('num_person', 2)
    backbone = _find_graph_backbone(cfg)
    if backbone is None:
        raise ValueError('Cannot infer the number of joints: no model '
                         'sub-config has a `graph_cfg`.' + hint)
    layout = backbone['graph_cfg'].get('layout')
    if isinstance(layout, str) and layout not in NUM_JOINTS:
        layout = EXTRA_LAYOUTS.get(layout, layout)  # e.g. 'nturgb+d_agcn'
    if isinstance(layout, str):
        if layout not in NUM_JOINTS:
            raise ValueError(f'Unknown layout {layout!r}; known: '
                             f'{sorted(NUM_JOINTS)}.' + hint)
        num_joints = NUM_JOINTS[layout]
    elif isinstance(layout, dict) and 'num_node' in layout:
        num_joints = layout['num_node']
    else:
        raise ValueError(f'Cannot infer the number of joints from layout '
                         f'{layout!r}.' + hint)
    in_channels = backbone.get('in_channels', 3)
    return (int(num_person), int(clip_lens[0]), int(num_joints),
            int(in_channels))


def infer_num_classes(cfg: Config) -> int:
    """First ``num_classes`` found in the model config (1 if none)."""
    for d in _walk(cfg.get('model', {})):
        if isinstance(d.get('num_classes'), int):
            return d['num_classes']
    return 1


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def make_fake_batch(batch_size: int,
                    shape: Sequence[int],
                    num_classes: int,
                    seed: int = 0) -> dict:
    """A random batch in the format the data preprocessor expects.

    Args:
        batch_size (int): Number of samples ``B``.
        shape (Sequence[int]): Per-sample ``(M, T, V, C)``.
        num_classes (int): Labels are drawn from ``[0, num_classes)``.
        seed (int): Seed of the generator. Defaults to 0.

    Returns:
        dict: ``{'inputs': [tensor (1, M, T, V, C)] * B, 'data_samples':
        [ActionDataSample] * B}`` with ``gt_label`` and metainfo
        ``sample_idx = i`` and ``frame_dir = str(i)``.
    """
    from mmaction.structures import ActionDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randn((1, ) + tuple(shape), generator=gen)
        for _ in range(batch_size)
    ]
    labels = torch.randint(
        max(num_classes, 1), (batch_size, ), generator=gen).tolist()
    samples = []
    for i, label in enumerate(labels):
        sample = ActionDataSample()
        sample.set_gt_label(label)
        sample.set_metainfo(dict(sample_idx=i, frame_dir=str(i)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _fresh(batch: dict, size: Optional[int] = None) -> dict:
    """A new batch dict (the data preprocessor rewrites it in place)."""
    n = len(batch['inputs']) if size is None else size
    return dict(
        inputs=list(batch['inputs'][:n]),
        data_samples=[s.clone() for s in batch['data_samples'][:n]])


def _config_name(config: ConfigLike) -> str:
    if isinstance(config, Config):
        return str(config.filename) if config.filename else '<config>'
    return '<dict>' if isinstance(config, dict) else str(config)
