"""Is a linear probe limited by the frozen features or by the probe?

A probe trained by SGD at a large learning rate (SkeAttnCLR's released
lr 3.0) on unnormalised features can diverge where the features are
informative but badly scaled, e.g. a random frozen backbone whose
eval-mode BatchNorm normalises nothing (docs/skeattnclr.md, "The probe
and the features' scale"). This module reads the pooled features of a
checkpoint's training and evaluation splits, describes their scale and
fits a well-conditioned reference probe: a multinomial logistic
regression (scikit-learn, L-BFGS) on features standardised with the
training split's mean and standard deviation.
"""
import copy
from typing import Any, Dict, Iterable, Optional, Tuple

import numpy as np


def feature_scale(features: np.ndarray) -> Dict[str, float]:
    """Scale of ``(N, C)`` features.

    Returns:
        dict: ``norm`` (mean over samples of the L2 norm), ``offset_norm``
        (L2 norm of the mean feature: the part every sample shares),
        ``channel_mean`` (mean over channels of ``|mean over samples|``)
        and ``channel_sd`` (mean over channels of the standard deviation
        over samples: the part that can tell samples apart).
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError('feature_scale: expected (N >= 2, C) features, got '
                         f'shape {x.shape}')
    mean = x.mean(axis=0)
    return dict(norm=float(np.linalg.norm(x, axis=1).mean()),
                offset_norm=float(np.linalg.norm(mean)),
                channel_mean=float(np.abs(mean).mean()),
                channel_sd=float(x.std(axis=0).mean()))


def standardised_probe(train_x: np.ndarray, train_y: np.ndarray,
                       test_x: np.ndarray, test_y: np.ndarray,
                       inverse_reg: Iterable[float] = (0.01, 0.1, 1.0),
                       max_iter: int = 3000
                       ) -> Dict[float, Tuple[float, float]]:
    """Logistic regression on standardised features, per regularisation.

    Args:
        train_x, train_y: ``(N, C)`` training features and ``(N, )`` labels.
        test_x, test_y: the evaluation split's.
        inverse_reg (Iterable[float]): scikit-learn's ``C`` values (inverse
            L2 strength); report every one, choose none (there is no
            validation split to choose on).
        max_iter (int): L-BFGS iterations.

    Returns:
        dict: ``C -> (train top-1 %, test top-1 %)``.
    """
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError('the reference probe needs scikit-learn: pip '
                          'install "mmskelcl[analysis]"') from err
    mean = train_x.mean(axis=0)
    sd = train_x.std(axis=0) + 1e-8
    tr, te = (train_x - mean) / sd, (test_x - mean) / sd
    out = {}
    for c in inverse_reg:
        clf = LogisticRegression(C=c, max_iter=max_iter).fit(tr, train_y)
        out[c] = (100.0 * clf.score(tr, train_y),
                  100.0 * clf.score(te, test_y))
    return out


def train_split_options(cfg: Any) -> Dict[str, Any]:
    """``cfg_options`` that point the test loader at the training split
    (the training loader's dataset, unwrapped from ``RepeatDataset``-like
    wrappers, with the test loader's pipeline)."""
    ds = cfg.train_dataloader.dataset
    while 'dataset' in ds and 'split' not in ds:
        ds = ds['dataset']
    if 'split' not in ds:
        raise KeyError('probe check: the training dataset names no split '
                       '(train_dataloader.dataset.split)')
    return {f'test_dataloader.dataset.{key}': copy.deepcopy(ds[key])
            for key in ('ann_file', 'split') if key in ds}


def split_features(config: str, checkpoint: Optional[str],
                   device: str = 'cpu',
                   cfg_options: Optional[Dict] = None) -> Dict[str, Any]:
    """Pooled features of the test split, then of the training split (read
    from the model's resolved config, through the test pipeline).

    Returns:
        dict: ``train`` and ``test``, each ``(features, labels)``.
    """
    from .features import checkpoint_features
    feats, labels, _, model = checkpoint_features(config, checkpoint, 'test',
                                                  None, device, cfg_options)
    out = dict(test=(feats, labels))
    opts = dict(cfg_options or {}, **train_split_options(model.cfg))
    feats, labels, _, _ = checkpoint_features(config, checkpoint, 'test',
                                              None, device, opts)
    out['train'] = (feats, labels)
    return out
