"""Build a recognizer from a config and checkpoint, classify skeleton clips.

>>> from mmskelcl.apis import init_recognizer, classify_skeleton
>>> model = init_recognizer('configs/demo/cacl_ctrgcn_j.py',
...                         'work_dirs/demo/cacl_ctrgcn_j/epoch_12.pth')
>>> pred = classify_skeleton(model, keypoint)  # (M, T, V, C) array
>>> print(pred.format())

The inference model is the config's recognizer without its training-only
parts: an ``AuxRecognizerGCN`` becomes the plain ``RecognizerGCN`` (same
backbone, same head), and the auxiliary heads' entries (contrastive heads,
memory banks) are dropped from the checkpoint. So a checkpoint trained with
a CACL, SkeletonGCL or FR-Head config loads into either that config or its
baseline config. The rest of the state dict must match exactly.

The test pipeline is ``test_dataloader``'s (the innermost dataset's
``pipeline``, with its ``stream`` applied to ``GenStreamFeat``), so a clip
is prepared exactly as ``tools/test.py`` prepares it. Note that a config's
top-level ``test_pipeline`` may differ from it (the demo configs override
the loaders, not that variable).
"""
import copy
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from ..analysis.hierarchy import load_label_map
from ..datasets.skeleton_dataset import apply_person_pad, apply_stream
from ..models.recognizers.aux_recognizer import strip_aux_state
from .clips import SkeletonPrediction, skeleton_to_sample

AUX_RECOGNIZERS = ('AuxRecognizerGCN', 'mmaction.AuxRecognizerGCN')


def _load_config(config: Union[str, Config],
                 cfg_options: Optional[Dict] = None) -> Config:
    if isinstance(config, (str, bytes)) or hasattr(config, '__fspath__'):
        cfg = Config.fromfile(str(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError(f'config must be a path or a Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def inference_model_cfg(model_cfg: Mapping) -> ConfigDict:
    """The model config without training-only parts.

    ``AuxRecognizerGCN`` becomes ``RecognizerGCN`` without ``aux_heads``;
    other recognizers are returned unchanged (as a copy).
    """
    cfg = ConfigDict(copy.deepcopy(dict(model_cfg)))
    model_type = cfg.get('type')
    if getattr(model_type, '__name__', model_type) in AUX_RECOGNIZERS:
        cfg['type'] = 'RecognizerGCN'
        cfg.pop('aux_heads', None)
        cfg.pop('num_frames', None)  # sizes the heads only (CSRE configs)
    backbone = cfg.get('backbone')
    if isinstance(backbone, Mapping) and backbone.get('pretrained'):
        backbone['pretrained'] = None
    return cfg


def load_checkpoint_state(checkpoint: str) -> Tuple[Dict[str, torch.Tensor],
                                                    Dict[str, Any]]:
    """``(state_dict, meta)`` of a checkpoint, ``module.`` prefixes removed.

    Loaded with mmengine's loader (``weights_only`` loading with the
    allowlist of :mod:`mmskelcl.compat.checkpoint`).
    """
    from mmengine.runner import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    state = {(k[7:] if k.startswith('module.') else k): v
             for k, v in state.items()}
    meta = (ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}
    return state, dict(meta)


def init_recognizer(config: Union[str, Config],
                    checkpoint: Optional[str] = None,
                    device: Union[str, torch.device] = 'cpu',
                    cfg_options: Optional[Dict] = None) -> nn.Module:
    """Build the inference recognizer of a config and load a checkpoint.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint file; may hold auxiliary
            (training-only) heads, which are dropped. None: random weights.
        device (str | torch.device): Device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The recognizer in eval mode, with ``cfg`` (the config)
        and ``dataset_meta`` (the checkpoint's, else the test dataset's
        ``metainfo``; may be empty) attributes.

    Raises:
        RuntimeError: The checkpoint does not fit the config's model.
    """
    cfg = _load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    from mmaction.registry import MODELS
    model = MODELS.build(inference_model_cfg(cfg.model))
    meta: Dict[str, Any] = {}
    if checkpoint is not None:
        state, meta = load_checkpoint_state(checkpoint)
        state = strip_aux_state(state)
        where = f'{checkpoint} does not fit the model of the config'
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shape mismatches
            raise RuntimeError(f'{where}: {err}') from err
        if missing or unexpected:
            raise RuntimeError(
                f'{where}: {len(missing)} missing keys {missing[:5]}, '
                f'{len(unexpected)} unexpected keys {unexpected[:5]}')
    dataset_meta = dict(meta.get('dataset_meta') or {})
    if not dataset_meta.get('classes'):
        ds = _test_dataset_cfg(cfg)
        dataset_meta.update(dict((ds or {}).get('metainfo') or {}))
    model.cfg = cfg
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def _test_dataset_cfg(cfg: Config) -> Optional[Mapping]:
    """The innermost dataset config of ``test_dataloader``."""
    ds = (cfg.get('test_dataloader') or {}).get('dataset')
    while isinstance(ds, Mapping) and isinstance(ds.get('dataset'), Mapping):
        ds = ds['dataset']
    return ds


def inference_pipeline_cfg(cfg: Config) -> List[Dict]:
    """The test pipeline: ``test_dataloader``'s, with its stream and
    person padding applied."""
    ds = _test_dataset_cfg(cfg)
    if ds is None or not ds.get('pipeline'):
        raise KeyError('the config has no test_dataloader.dataset.pipeline')
    pipeline = [dict(step) if isinstance(step, Mapping) else step
                for step in ds['pipeline']]
    if ds.get('stream') is not None:
        pipeline = apply_stream(pipeline, ds['stream'])
    if ds.get('person_pad') is not None:
        pipeline = apply_person_pad(pipeline, ds['person_pad'])
    return pipeline


def build_test_pipeline(cfg: Config) -> Compose:
    """:class:`Compose` of :func:`inference_pipeline_cfg`."""
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    return Compose(copy.deepcopy(inference_pipeline_cfg(cfg)))


def class_names_of(model: nn.Module,
                   label_map: Optional[str] = None) -> Optional[List[str]]:
    """Class names: from ``label_map`` (a file) or the model's
    ``dataset_meta['classes']``; None when neither has them.

    Raises:
        ValueError: The names do not give one name per class of the head.
    """
    if label_map is not None:
        names = load_label_map(label_map)
    else:
        names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    if names is None:
        return None
    names = [str(n) for n in names]
    k = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
    if k is not None and len(names) != k:
        raise ValueError(f'{len(names)} class names for a {k}-class model')
    return names


def _is_2d(cfg: Config) -> bool:
    """Whether the test pipeline normalises 2D image coordinates."""
    return any(
        isinstance(s, Mapping) and str(s.get('type', '')).endswith(
            'PreNormalize2D') for s in inference_pipeline_cfg(cfg))


def _check_joints(model: nn.Module, sample: Mapping) -> None:
    """Refuse a clip whose joint count is not the graph layout's."""
    graph = getattr(getattr(model, 'backbone', None), 'graph', None)
    if getattr(graph, 'A', None) is None:
        return
    want, got = np.shape(graph.A)[-1], np.shape(sample['keypoint'])[2]
    if want != got:
        layout = ((model.cfg.model.get('backbone') or {}).get('graph_cfg')
                  or {}).get('layout')
        raise ValueError(
            f'{sample.get("frame_dir", "input")}: {got} joints per frame but '
            f'the config\'s layout {layout!r} (model.backbone.graph_cfg) has '
            f'{want}; give a {want}-joint skeleton in that joint order, or a '
            f'config whose layout has {got} joints')


@torch.no_grad()
def classify_skeleton(model: nn.Module,
                      skeleton: Union[np.ndarray, Mapping],
                      keypoint_score: Optional[np.ndarray] = None,
                      img_shape: Optional[Sequence[int]] = None,
                      topk: int = 5,
                      class_names: Optional[Sequence[str]] = None,
                      test_pipeline: Optional[Compose] = None
                      ) -> SkeletonPrediction:
    """Classify one skeleton clip with the config's test pipeline.

    Args:
        model (nn.Module): From :func:`init_recognizer`.
        skeleton (np.ndarray | Mapping): A ``(M, T, V, C)`` array or an
            annotation dict of the dataset format (a pickle sample). For a
            2D config (``PreNormalize2D``) a ``C = 3`` array is read as
            x, y, score and a ``C = 2`` array gets scores of 1, unless
            ``keypoint_score`` is given.
        keypoint_score (np.ndarray, optional): ``(M, T, V)`` for arrays.
        img_shape (Sequence[int], optional): ``(h, w)`` for 2D arrays.
        topk (int): How many classes to return.
        class_names (Sequence[str], optional): Default
            :func:`class_names_of` of the model, else ``class_<i>``.
        test_pipeline (Compose, optional): Default the config's.

    Returns:
        SkeletonPrediction: Scores and the top-k classes.
    """
    if isinstance(skeleton, Mapping):
        sample = copy.deepcopy(dict(skeleton))
        sample.setdefault('start_index', 0)
        sample.setdefault('modality', 'Pose')
        sample.setdefault('label', -1)
        if 'total_frames' not in sample:
            sample['total_frames'] = int(np.shape(sample['keypoint'])[1])
    else:
        sample = skeleton_to_sample(skeleton, keypoint_score, img_shape,
                                    two_d=_is_2d(model.cfg))
    _check_joints(model, sample)
    if test_pipeline is None:
        test_pipeline = build_test_pipeline(model.cfg)
    data = pseudo_collate([test_pipeline(sample)])
    result = model.test_step(data)[0]
    scores = result.pred_score.detach().float().cpu().numpy().reshape(-1)
    if class_names is None:
        class_names = class_names_of(model)
    names = list(class_names) if class_names else [
        f'class_{i}' for i in range(len(scores))]
    order = np.argsort(-scores, kind='stable')[:topk]
    label = int(np.asarray(sample.get('label', -1)).reshape(-1)[0])
    return SkeletonPrediction(
        frame_dir=str(sample.get('frame_dir', 'input')),
        scores=scores,
        topk=[(int(i), names[i], float(scores[i])) for i in order],
        gt_label=label if label >= 0 else None)
