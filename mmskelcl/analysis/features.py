"""Pooled features of an evaluation split, and their t-SNE.

The feature of a sample is what ``GCNHead`` feeds its classifier: the
backbone output averaged over time, joints and persons, then averaged over
the test clips of the sample.
"""
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn


def pooled_features(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``(B, C)`` pooled backbone features of ``(B, clips, M, T, V, C)``."""
    batch, clips = inputs.shape[:2]
    feats, _ = model.extract_feat(inputs, stage='backbone')
    if isinstance(feats, (tuple, list)):
        feats = feats[0]
    if feats.dim() != 5:
        raise ValueError('expected backbone features (B*clips, M, C, T, V),'
                         f' got shape {tuple(feats.shape)}')
    pooled = feats.mean(dim=(3, 4)).mean(dim=1)  # (B*clips, C)
    return pooled.view(batch, clips, -1).mean(dim=1)


@torch.no_grad()
def extract_features(model: nn.Module,
                     dataloader: Any,
                     max_samples: Optional[int] = None
                     ) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Run the model over a dataloader and collect pooled features.

    Args:
        model (nn.Module): A recognizer in eval mode (its
            ``data_preprocessor`` is applied to each batch).
        dataloader (Iterable): Yields mmengine batches
            (``dict(inputs=..., data_samples=...)``).
        max_samples (int, optional): Stop after this many samples (the
            first ones of the loader; use an unshuffled loader).

    Returns:
        tuple: ``features (N, C)`` float32, ``labels (N, )`` int64 and the
        sample ids (``frame_dir`` when present, else the running index).
    """
    model.eval()
    feats, labels, ids = [], [], []
    for batch in dataloader:
        data = model.data_preprocessor(batch, False)
        out = pooled_features(model, data['inputs'])
        feats.append(out.float().cpu().numpy())
        for sample in data['data_samples']:
            labels.append(int(sample.gt_label.reshape(-1)[0]))
            ids.append(str(sample.metainfo.get('frame_dir', len(ids))))
        if max_samples is not None and len(labels) >= max_samples:
            break
    features = np.concatenate(feats)[:max_samples]
    return (features, np.asarray(labels[:max_samples], dtype=np.int64),
            ids[:max_samples])


def run_tsne(features: np.ndarray,
             perplexity: float = 30.0,
             seed: int = 0,
             **kwargs: Dict[str, Any]) -> np.ndarray:
    """2-D t-SNE of ``features`` (scikit-learn).

    The features are standardised first; ``perplexity`` is lowered to
    ``(N - 1) / 3`` for small sets (scikit-learn needs it below N).

    Args:
        features (np.ndarray): ``(N, C)``.
        perplexity (float): t-SNE perplexity.
        seed (int): Random state.
        **kwargs: Passed to ``sklearn.manifold.TSNE``.

    Returns:
        np.ndarray: ``(N, 2)`` coordinates.
    """
    try:
        from sklearn.manifold import TSNE
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError(
            't-SNE needs scikit-learn: pip install "mmskelcl[analysis]" '
            '(or pip install scikit-learn)') from err
    n = len(features)
    if n < 4:
        raise ValueError(f't-SNE needs at least 4 samples, got {n}')
    x = np.asarray(features, dtype=np.float64)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)
    perplexity = float(min(perplexity, max(1.0, (n - 1) / 3)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init='pca',
                learning_rate='auto', random_state=seed, **kwargs)
    return tsne.fit_transform(x)


def checkpoint_features(config: Any,
                        checkpoint: Optional[str],
                        split: str = 'test',
                        max_samples: Optional[int] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[Dict] = None
                        ) -> Tuple[np.ndarray, np.ndarray, List[str], Any]:
    """Pooled features of a config's evaluation split for a checkpoint.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint (training-only heads are
            dropped, see :func:`mmskelcl.apis.init_recognizer`).
        split (str): ``'test'`` or ``'val'``: which dataloader of the config
            (its samples in order, never shuffled).
        max_samples (int, optional): Use only the first samples.
        device (str): Device.
        cfg_options (dict, optional): Config overrides.

    Returns:
        tuple: ``features``, ``labels``, ``ids`` (see
        :func:`extract_features`) and the model.
    """
    import copy

    from mmengine.runner import Runner

    from mmskelcl.apis.inference import init_recognizer
    if split not in ('test', 'val'):
        raise ValueError(f"split must be 'test' or 'val', got {split!r}")
    model = init_recognizer(config, checkpoint, device, cfg_options)
    loader_cfg = copy.deepcopy(model.cfg.get(f'{split}_dataloader'))
    if not loader_cfg:
        raise KeyError(f'the config has no {split}_dataloader')
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    feats, labels, ids = extract_features(model, loader, max_samples)
    return feats, labels, ids, model
