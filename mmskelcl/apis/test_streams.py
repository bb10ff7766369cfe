"""Test one or several streams with the mmengine Runner and fuse them.

This is the logic behind ``tools/test.py``. Each stream is a (config,
checkpoint) pair that is tested exactly as MMAction2's ``tools/test.py``
does (``Config.fromfile`` -> ``cfg.load_from = checkpoint`` ->
``Runner.from_cfg`` -> ``runner.test()``), with two additions:

* ``'frame_dir'`` is added to the ``meta_keys`` of every ``PackActionInputs``
  of the test pipeline, so each prediction carries its sample id;
* an mmengine ``DumpResults`` metric is appended to ``test_evaluator``; it
  writes ``<stream>_results.pkl`` (MMAction2 format, readable by
  MMAction2's ``report_accuracy.py`` too) into the work dir when a dump is
  asked for, else into a temporary folder removed afterwards.

The dumps are then aligned by id and fused with
:func:`mmskelcl.evaluation.fuse_streams`. Before any stream runs, every
config, annotation file and checkpoint is checked
(:mod:`mmskelcl.utils.preflight`): a checkpoint that leaves model weights
unset or was trained on another stream is refused. Each stream's scores
keep the class names (``meta['classes']``) of the test pickle, else of the
checkpoint, for ``--per-class`` and the dumps.
"""
import inspect
import os.path as osp
import tempfile
import warnings
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mmengine.config import Config
from mmengine.dist import is_main_process

from mmskelcl.evaluation.fusion import (FusionResult, StreamScores,
                                        fuse_streams, load_score_file,
                                        resolve_weights, save_fusion)
from mmskelcl.utils.preflight import (PreflightError, add_run_check_hooks,
                                      apply_data_overrides, cap_num_workers,
                                      checkpoint_problems, input_problems,
                                      raise_problems)

WeightsArg = Optional[Union[str, Sequence[Union[str, float]]]]


def _pack_default_meta_keys() -> tuple:
    """``PackActionInputs``'s default ``meta_keys`` (read, not copied)."""
    from mmaction.datasets.transforms import PackActionInputs
    param = inspect.signature(PackActionInputs.__init__).parameters
    return tuple(param['meta_keys'].default)


def _type_name(type_value: Any) -> str:
    """Bare registry name of a ``type`` entry (str or class)."""
    name = getattr(type_value, '__name__', type_value)
    return str(name).split('.')[-1]


def ensure_frame_dir(cfg: Config) -> int:
    """Add ``'frame_dir'`` to every ``PackActionInputs`` of the test set.

    Walks ``cfg.test_dataloader.dataset`` including wrapped datasets
    (``dataset`` / ``datasets`` keys) and edits the config in place.

    Args:
        cfg (Config): The config to patch.

    Returns:
        int: How many ``PackActionInputs`` transforms were found.
    """
    dataloader = cfg.get('test_dataloader')
    if dataloader is None or dataloader.get('dataset') is None:
        raise KeyError(f'config {cfg.filename!r} has no test_dataloader '
                       'with a dataset')
    return _patch_dataset(dataloader['dataset'], _pack_default_meta_keys())


def _patch_dataset(dataset_cfg: Any, default_keys: tuple) -> int:
    """Recursive helper of :func:`ensure_frame_dir`."""
    if isinstance(dataset_cfg, (list, tuple)):
        return sum(_patch_dataset(d, default_keys) for d in dataset_cfg)
    if not isinstance(dataset_cfg, Mapping):
        return 0
    found = 0
    for step in dataset_cfg.get('pipeline') or []:
        if isinstance(step, Mapping) and \
                _type_name(step.get('type')) == 'PackActionInputs':
            keys = tuple(step.get('meta_keys', default_keys))
            if 'frame_dir' not in keys:
                step['meta_keys'] = keys + ('frame_dir', )
            found += 1
    for key in ('dataset', 'datasets'):
        found += _patch_dataset(dataset_cfg.get(key), default_keys)
    return found


def _append_evaluator(cfg: Config, metric: Dict[str, Any]) -> None:
    """Append a metric to ``cfg.test_evaluator`` (list, dict or Evaluator)."""
    evaluator = cfg.get('test_evaluator')
    if evaluator is None:
        cfg.test_evaluator = [metric]
    elif isinstance(evaluator, (list, tuple)):
        cfg.test_evaluator = list(evaluator) + [metric]
    elif 'metrics' in evaluator:  # dict(type='Evaluator', metrics=...)
        metrics = evaluator['metrics']
        if not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        evaluator['metrics'] = list(metrics) + [metric]
    else:
        cfg.test_evaluator = [evaluator, metric]


def default_stream_names(configs: Sequence[str]) -> List[str]:
    """Stream names from config file stems, made unique (``_2``, ...)."""
    names: List[str] = []
    for config in configs:
        stem = osp.splitext(osp.basename(config))[0]
        name, k = stem, 1
        while name in names:
            k += 1
            name = f'{stem}_{k}'
        names.append(name)
    return names


def default_work_dir(config: str) -> str:
    """``work_dirs/<config folder>/<config stem>`` (as ``tools/train.py``),
    so the same stream name in two dataset folders does not collide."""
    folder = osp.basename(osp.dirname(osp.abspath(config)))
    return osp.join('work_dirs', folder,
                    osp.splitext(osp.basename(config))[0])


def build_stream_cfg(config: str,
                     checkpoint: str,
                     name: str,
                     work_dir: Optional[str] = None,
                     cfg_options: Optional[Dict[str, Any]] = None,
                     launcher: str = 'none',
                     multi_stream: bool = False,
                     ann_file: Optional[str] = None,
                     num_classes: Optional[int] = None,
                     dump_dir: Optional[str] = None) -> Tuple[Config, str]:
    """Load and prepare the test config of one stream.

    Args:
        config (str): Config file.
        checkpoint (str): Checkpoint file (becomes ``cfg.load_from``).
        name (str): Stream name (dump file name, experiment name).
        work_dir (str, optional): Work dir given on the command line. For
            several streams each stream uses ``<work_dir>/<name>``.
            Otherwise ``cfg.work_dir`` or :func:`default_work_dir`.
        cfg_options (dict, optional): Overrides merged into the config
            before the mmskelcl additions.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
        multi_stream (bool): Whether this stream is one of several.
        ann_file (str, optional): Annotation file for every loader.
        num_classes (int, optional): Class count of every loader and head
            (see :func:`~mmskelcl.utils.preflight.apply_data_overrides`).
        dump_dir (str, optional): Folder of the ``DumpResults`` pickle;
            default the stream's work dir.

    Returns:
        tuple[Config, str]: The config and the path of the ``DumpResults``
        pickle it will write (``<dump_dir>/<name>_results.pkl``).
    """
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # --launcher without CUDA: gloo and no set_device (a no-op otherwise)
    from ..compat.cpu_dist import setup_cpu_distributed
    setup_cpu_distributed(cfg)
    apply_data_overrides(cfg, ann_file, num_classes)
    cap_num_workers(add_run_check_hooks(cfg))
    stem = osp.splitext(osp.basename(config))[0]
    if work_dir is not None:
        cfg.work_dir = osp.join(work_dir, name) if multi_stream else work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(config)
    if multi_stream:
        # Runners of the same config built within one second would share
        # the experiment name (logger, visualizer and message-hub instances).
        cfg.experiment_name = f'{cfg.get("experiment_name") or stem}_{name}'
    cfg.load_from = checkpoint
    if ensure_frame_dir(cfg) == 0:
        warnings.warn(
            f'{config}: no PackActionInputs in the test pipeline; the '
            "predictions need a 'frame_dir' metainfo to be fused by id")
    dump_path = osp.join(dump_dir or cfg.work_dir, f'{name}_results.pkl')
    _append_evaluator(cfg, dict(type='DumpResults', out_file_path=dump_path))
    return cfg, dump_path


def check_stream_cfg(cfg: Config, config: str, checkpoint: str,
                     allow_stream_mismatch: bool = False) -> List[str]:
    """Problems of one prepared stream (missing files, class counts, a
    checkpoint of another model or stream); empty when it can run."""
    return input_problems(cfg, config, ('test_dataloader', )) + \
        checkpoint_problems(cfg, config, checkpoint, allow_stream_mismatch)


def run_stream_cfg(cfg: Config, dump_path: str, config: str,
                   checkpoint: str, name: str) -> Optional[StreamScores]:
    """``runner.test()`` of a prepared config; its scores (main rank)."""
    from mmengine.runner import Runner

    from mmaction.registry import RUNNERS
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    metrics = runner.test()
    dataset_classes = getattr(runner.test_dataloader.dataset, 'metainfo',
                              {}).get('classes')
    del runner
    if not is_main_process():
        return None
    stream = load_score_file(dump_path, name=name)[0]
    head = cfg.get('model', {}).get('cls_head') or {}
    from mmskelcl.analysis.protocol import protocol_cfg
    stream.meta.update(
        config=osp.abspath(config),
        checkpoint=checkpoint,
        protocol_cfg=protocol_cfg(cfg),  # report.py reads it, not config
        average_clips=head.get('average_clips', 'prob'),
        runner_metrics={k: _as_float(v)
                        for k, v in (metrics or {}).items()})
    classes, source = stream_class_names(dataset_classes, checkpoint,
                                         stream.num_classes, config)
    if classes is not None:
        stream.meta.update(classes=classes, classes_from=source)
    return stream


def stream_class_names(dataset_classes: Any, checkpoint: str,
                       num_classes: int,
                       config: str) -> Tuple[Optional[List[str]], str]:
    """Names of a tested stream's classes and where they come from: the
    test dataset's metainfo (the pickle's ``classes``), else the
    checkpoint's ``meta['dataset_meta']``; None when neither has one name
    per class."""
    from mmskelcl.analysis.per_class import (checkpoint_class_names,
                                             fitting_names)
    if dataset_classes is not None:
        where = f'the test pickle of {config}'
        return fitting_names(dataset_classes, num_classes, where), where
    where = f'checkpoint {checkpoint}'
    return fitting_names(checkpoint_class_names(checkpoint), num_classes,
                         where), where


def evaluate_stream(config: str,
                    checkpoint: str,
                    name: Optional[str] = None,
                    work_dir: Optional[str] = None,
                    cfg_options: Optional[Dict[str, Any]] = None,
                    launcher: str = 'none',
                    multi_stream: bool = False,
                    **kwargs) -> Optional[StreamScores]:
    """Test one stream (see :func:`evaluate_streams`; ``kwargs`` are its
    ``ann_file``, ``num_classes``, ``allow_stream_mismatch`` and
    ``keep_dumps``); its scores, ``None`` on non-main ranks.

    ``meta`` of the result holds config, checkpoint, ``protocol_cfg`` (the
    splits and schedule ``report.py`` states, as data), ``average_clips`` of
    the head and the Runner's metrics.
    """
    name = name or default_stream_names([config])[0]
    return _evaluate([config], [checkpoint], [name], work_dir, cfg_options,
                     launcher, multi_stream=multi_stream, **kwargs)[0]


def _evaluate(configs: Sequence[str],
              checkpoints: Sequence[str],
              names: Sequence[str],
              work_dir: Optional[str],
              cfg_options: Optional[Dict[str, Any]],
              launcher: str,
              multi_stream: bool,
              ann_file: Optional[str] = None,
              num_classes: Optional[int] = None,
              allow_stream_mismatch: bool = False,
              keep_dumps: bool = False) -> List[Optional[StreamScores]]:
    """Check every stream, then test them one after the other."""
    missing = [c for c in configs if not osp.isfile(c)]
    if missing:
        raise PreflightError('\n'.join(f'error: config file not found: {c}'
                                        for c in missing))
    with tempfile.TemporaryDirectory(prefix='mmskelcl_test_') as tmp:
        prepared, problems = [], []
        for config, checkpoint, name in zip(configs, checkpoints, names):
            cfg, dump_path = build_stream_cfg(
                config, checkpoint, name, work_dir, cfg_options, launcher,
                multi_stream, ann_file, num_classes,
                dump_dir=None if keep_dumps else tmp)
            problems += check_stream_cfg(cfg, config, checkpoint,
                                         allow_stream_mismatch)
            prepared.append((cfg, dump_path, config, checkpoint, name))
        raise_problems(problems)
        return [run_stream_cfg(*args) for args in prepared]


def _as_float(value: Any) -> Any:
    """A scalar metric as a plain float; other values unchanged."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def evaluate_streams(configs: Sequence[str],
                     checkpoints: Sequence[str],
                     weights: WeightsArg = None,
                     stream_names: Optional[Sequence[str]] = None,
                     work_dir: Optional[str] = None,
                     cfg_options: Optional[Dict[str, Any]] = None,
                     launcher: str = 'none',
                     dump: Optional[str] = None,
                     apply_softmax: bool = False,
                     ann_file: Optional[str] = None,
                     num_classes: Optional[int] = None,
                     allow_stream_mismatch: bool = False
                     ) -> Optional[FusionResult]:
    """Test every stream, fuse them by id, optionally dump the fusion.

    The weights, every config, annotation file and checkpoint are checked
    before any model runs.

    Args:
        configs (Sequence[str]): One config per stream.
        checkpoints (Sequence[str]): One checkpoint per stream.
        weights (str | Sequence | None): Preset name or one number per
            stream; ``None`` for equal weights.
        stream_names (Sequence[str], optional): Names; default config stems.
        work_dir (str, optional): Root work dir (see
            :func:`build_stream_cfg`).
        cfg_options (dict, optional): Overrides applied to every config.
        launcher (str): Job launcher.
        dump (str, optional): Write the multi-stream dump (see
            :mod:`mmskelcl.evaluation.scores`) to this ``.pkl``, and keep
            each stream's ``<work_dir>/<name>_results.pkl``.
        apply_softmax (bool): Softmax each stream before fusing.
        ann_file (str, optional): Annotation file of every stream.
        num_classes (int, optional): Class count of every loader and head.
        allow_stream_mismatch (bool): Test a checkpoint trained on another
            stream than its config's.

    Returns:
        FusionResult | None: The fusion; ``None`` on non-main ranks.

    Raises:
        PreflightError: A config, annotation file or checkpoint is missing
            or does not fit (every problem of every stream, one a line).
    """
    if len(configs) != len(checkpoints) or not configs:
        raise ValueError(f'need one checkpoint per config, got '
                         f'{len(configs)} configs and {len(checkpoints)} '
                         'checkpoints')
    resolved = resolve_weights(weights, len(configs))
    if stream_names is None:
        stream_names = default_stream_names(configs)
    elif len(stream_names) != len(configs):
        raise ValueError(f'{len(stream_names)} stream names for '
                         f'{len(configs)} streams')
    elif len(set(stream_names)) != len(stream_names):
        raise ValueError(f'stream names must be unique: {stream_names}')
    if dump is not None and not dump.endswith(('.pkl', '.pickle')):
        raise ValueError(f'the dump file must be a .pkl file, got {dump!r}')
    streams = _evaluate(configs, checkpoints, stream_names, work_dir,
                        cfg_options, launcher, len(configs) > 1, ann_file,
                        num_classes, allow_stream_mismatch,
                        keep_dumps=dump is not None)
    if not is_main_process():
        return None
    result = fuse_streams(streams, resolved, apply_softmax=apply_softmax)
    if dump is not None:
        save_fusion(result, dump)
    return result
