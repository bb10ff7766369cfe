"""Features of a training-only auxiliary head (CSRE's ``s`` and ``t``, Fig.
6), for the t-SNE tool.

The inference model drops the auxiliary heads, so here the recognizer is
built from the training config (``AuxRecognizerGCN`` with its
``aux_heads``) and the *whole* checkpoint is loaded, heads included. A
sample's feature is ``head.features(taps, inputs)[branch]`` of each test
clip (for :class:`~mmskelcl.models.heads.CSREHead`: the L2-normalised
STFD output), averaged over the clips and normalised again.

``feature`` names ``<aux head name>.<branch>``, e.g. ``csre.spatial``,
``csre.temporal`` or ``csre.global`` (CSRE configs name the head
``csre``).
"""
import copy
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _split_feature(model: nn.Module, feature: str) -> Tuple[nn.Module, str]:
    heads = getattr(model, 'aux_heads', None)
    name, _, branch = feature.partition('.')
    if not isinstance(heads, nn.ModuleDict) or name not in heads:
        held = list(heads.keys()) if isinstance(heads, nn.ModuleDict) else []
        raise KeyError(f'feature {feature!r}: the model has no auxiliary '
                       f'head {name!r} (it has {held}); use a training '
                       'config with aux_heads, e.g. configs/<dataset>/'
                       'csre_ctrgcn_j.py')
    head = heads[name]
    if not hasattr(head, 'features') or not branch:
        raise KeyError(f'feature {feature!r}: give <head>.<branch>, with a '
                       'head that has a features() method (CSREHead: '
                       'spatial, temporal, global)')
    return head, branch


def head_features(model: nn.Module, inputs: torch.Tensor,
                  feature: str) -> torch.Tensor:
    """``(B, D)`` features of ``(B, clips, M, T, V, C)`` inputs.

    Args:
        model (nn.Module): An ``AuxRecognizerGCN`` (eval mode).
        inputs (Tensor): Preprocessed inputs.
        feature (str): ``<aux head name>.<branch>``.
    """
    head, branch = _split_feature(model, feature)
    batch, clips = inputs.shape[:2]
    x = inputs.flatten(0, 1)
    _, taps = model.backbone(x, taps=model.aux_taps)
    feats = head.features(taps, x)
    if branch not in feats:
        raise KeyError(f'feature {feature!r}: the head computes '
                       f'{sorted(feats)} (enable the branch in its config)')
    out = feats[branch].view(batch, clips, -1).mean(1)
    return F.normalize(out, dim=1)


def build_training_model(config: Any, checkpoint: Optional[str],
                         device: str = 'cpu',
                         cfg_options: Optional[Dict] = None) -> nn.Module:
    """The config's recognizer with its auxiliary heads, the whole
    checkpoint loaded strictly (banks adopt the saved size)."""
    from mmengine.registry import init_default_scope

    from mmskelcl.apis.inference import _load_config, load_checkpoint_state
    cfg = _load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    from mmaction.registry import MODELS
    model = MODELS.build(copy.deepcopy(cfg.model))
    meta: Dict[str, Any] = {}
    if checkpoint is not None:
        state, meta = load_checkpoint_state(checkpoint)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise RuntimeError(f'{checkpoint} does not fit the training '
                               f'model of {cfg.filename}: {err}') from err
    model.cfg = cfg
    model.dataset_meta = dict(meta.get('dataset_meta') or {})
    return model.to(device).eval()


@torch.no_grad()
def checkpoint_head_features(config: Any,
                             checkpoint: Optional[str],
                             feature: str,
                             split: str = 'test',
                             max_samples: Optional[int] = None,
                             device: str = 'cpu',
                             cfg_options: Optional[Dict] = None
                             ) -> Tuple[np.ndarray, np.ndarray, List[str],
                                        nn.Module]:
    """As :func:`mmskelcl.analysis.features.checkpoint_features`, with the
    features of an auxiliary head (see the module docstring)."""
    from mmengine.runner import Runner
    if split not in ('test', 'val'):
        raise ValueError(f"split must be 'test' or 'val', got {split!r}")
    model = build_training_model(config, checkpoint, device, cfg_options)
    _split_feature(model, feature)
    loader_cfg = copy.deepcopy(model.cfg.get(f'{split}_dataloader'))
    if not loader_cfg:
        raise KeyError(f'the config has no {split}_dataloader')
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    feats, labels, ids = [], [], []
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        feats.append(head_features(model, data['inputs'], feature)
                     .float().cpu().numpy())
        for sample in data['data_samples']:
            labels.append(int(sample.gt_label.reshape(-1)[0]))
            ids.append(str(sample.metainfo.get('frame_dir', len(ids))))
        if max_samples is not None and len(labels) >= max_samples:
            break
    return (np.concatenate(feats)[:max_samples],
            np.asarray(labels[:max_samples], dtype=np.int64),
            ids[:max_samples], model)
