"""What the model looks at: per-joint and per-frame weights of a clip, and
its nearest clips in feature space.

* :func:`class_activation`: the class-activation map of a recognizer whose
  head is MMAction2's ``GCNHead`` (any encoder with an ``(N, M, C, T', V)``
  map): ``cam_k[m, t, v] = W_k . f[m, :, t, v]``. The head averages the
  map over persons, frames and joints before its linear layer, so the mean
  of ``cam_k`` plus the bias is exactly the logit of class ``k``.
* :func:`attention_weights`: SkeAttnCLR's attention mask ``M_s`` (the
  salient part, Eq. 4; ``1 - M_s`` is the non-salient part) per position,
  averaged over channels.
* :func:`to_clip_weights`: ``(T', V)`` maps to ``(V,)`` joint weights and
  ``(T,)`` frame weights of the original clip (the test pipelines sample
  frames uniformly, so step ``t'`` covers frames ``t`` with
  ``floor(t T' / T) = t'``).
* :func:`clip_features` / :func:`nearest`: the pooled features the banks
  contrast and the K nearest clips by cosine similarity.
"""
import copy
from typing import List, Mapping, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope


def _dataset_cfg(cfg) -> Mapping:
    """Innermost dataset of ``test_dataloader`` (else ``val_dataloader``:
    SkeAttnCLR pretraining configs have no test loader)."""
    for key in ('test_dataloader', 'val_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset')
        while isinstance(ds, Mapping) and isinstance(ds.get('dataset'),
                                                     Mapping):
            ds = ds['dataset']
        if isinstance(ds, Mapping) and ds.get('pipeline'):
            return ds
    raise KeyError('the config has no test_dataloader / val_dataloader '
                   'dataset with a pipeline')


def model_inputs(model: nn.Module,
                 samples: Sequence[Mapping]) -> torch.Tensor:
    """``(B, clips, M, T, V, C)`` inputs of annotation dicts, through the
    config's test pipeline and the model's data preprocessor."""
    from ..datasets.skeleton_dataset import apply_stream
    cfg = model.cfg
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    ds = _dataset_cfg(cfg)
    steps = [dict(s) for s in ds['pipeline']]
    if ds.get('stream') is not None:
        steps = apply_stream(steps, ds['stream'])
    pipeline = Compose(copy.deepcopy(steps))
    packed = []
    for s in samples:
        s = copy.deepcopy(dict(s))
        s.setdefault('start_index', 0)
        s.setdefault('modality', 'Pose')
        s.setdefault('label', -1)
        s.setdefault('total_frames', int(np.shape(s['keypoint'])[1]))
        packed.append(pipeline(s))
    data = model.data_preprocessor(pseudo_collate(packed), False)
    return data['inputs']


def _linear_head(model: nn.Module) -> nn.Linear:
    from mmaction.models.heads import GCNHead
    head = getattr(model, 'cls_head', None)
    if not isinstance(head, GCNHead) or not isinstance(
            getattr(head, 'fc', None), nn.Linear):
        raise TypeError(
            'a class-activation map needs a linear classifier on the '
            'pooled map (MMAction2 GCNHead); this model has '
            f'{type(head).__name__}')
    return head.fc


@torch.no_grad()
def class_activation(model: nn.Module, inputs: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Class-activation maps of a recognizer.

    Args:
        model (nn.Module): A ``RecognizerGCN`` with a ``GCNHead``.
        inputs (Tensor): ``(B, clips, M, T, V, C)``.

    Returns:
        tuple: ``cam (B, clips, K, M, T', V)`` and the bias ``(K,)``; per
        clip, ``cam.mean((-3, -2, -1)) + bias`` are the logits.
    """
    fc = _linear_head(model)
    B, nc = inputs.shape[:2]
    feats, _ = model.extract_feat(inputs, stage='backbone')
    if isinstance(feats, (tuple, list)):
        feats = feats[0]
    if feats.dim() != 5:
        raise ValueError('expected a backbone map (N, M, C, T, V), got '
                         f'shape {tuple(feats.shape)}')
    cam = torch.einsum('nmctv,kc->nkmtv', feats, fc.weight)
    bias = fc.bias if fc.bias is not None else torch.zeros(len(fc.weight))
    return cam.reshape((B, nc) + cam.shape[1:]), bias


@torch.no_grad()
def attention_weights(model: nn.Module,
                      inputs: torch.Tensor) -> torch.Tensor:
    """SkeAttnCLR's salient mask ``M_s`` per position, averaged over
    channels (and over the clips and persons): ``(B, T', V)`` in (0, 1).
    """
    from ..models.utils.skeleton_mix import convert_stream
    neck = getattr(model, 'neck', None)
    if not hasattr(neck, 'attention_mask') or not hasattr(model, 'stream'):
        raise TypeError('attention weights need a SkeAttnCLR model (its '
                        'pretraining config and checkpoint); got '
                        f'{type(model).__name__}')
    B, nc = inputs.shape[:2]
    x = convert_stream(inputs.flatten(0, 1), model.stream, model.layout)
    feat = model.backbone(x)
    if feat.dim() != 5:
        raise ValueError('attention weights need a (N, M, C, T, V) map, got '
                         f'shape {tuple(feat.shape)}')
    _, M, _, T, V = feat.shape
    mask = neck.attention_mask(feat).mean(-1)  # (B*nc*M, T*V)
    return mask.view(B, nc, M, T, V).mean((1, 2))


def to_clip_weights(weights: np.ndarray, num_frames: int
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """``(T', V)`` -> joint weights ``(V,)`` (mean over steps) and frame
    weights ``(num_frames,)`` (mean over joints of the step covering each
    frame)."""
    w = np.asarray(weights, np.float64)
    steps = w.shape[0]
    idx = np.minimum(np.arange(num_frames) * steps // num_frames, steps - 1)
    return w.mean(0), w.mean(1)[idx]


@torch.no_grad()
def clip_features(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``(B, D)`` features: a recognizer's pooled backbone map (what its
    classifier and the contrastive heads see), SkeAttnCLR's pooled query
    feature; averaged over clips."""
    if hasattr(model, 'neck') and hasattr(model, 'stream'):
        return model.extract_feat(inputs)
    from ..analysis.features import pooled_features
    return pooled_features(model, inputs)


def nearest(query: torch.Tensor, bank: torch.Tensor, k: int,
            exclude: Sequence[int] = ()) -> Tuple[List[int], List[float]]:
    """Indices and cosine similarities of the ``k`` bank rows nearest to
    ``query`` (``(D,)``), leaving out ``exclude`` (the query itself)."""
    q = torch.nn.functional.normalize(query.reshape(1, -1).float(), dim=1)
    b = torch.nn.functional.normalize(bank.float(), dim=1)
    sim = (b @ q.t()).reshape(-1)
    if len(exclude):
        sim[list(exclude)] = -float('inf')
    k = min(k, int(torch.isfinite(sim).sum()))
    top = torch.topk(sim, k)
    return top.indices.tolist(), top.values.tolist()
