"""Learnability sanity check of the demo dataset (numpy only)."""
from typing import Dict

import numpy as np

def handcrafted_features(ann: dict) -> np.ndarray:
    """Order-free clip descriptor for a linear baseline.

    Keypoints are centred on the mean hip centre and scaled by the mean
    torso length, then summarised by the time-average and standard deviation
    of the joint positions and the time-average of the (signed and absolute)
    joint velocities. The descriptor ignores temporal order, which is what
    several pairs hinge on.

    Args:
        ann (dict): One annotation of the demo dataset.

    Returns:
        np.ndarray: Feature vector, ``float64`` of length ``17 * 2 * 5``.
    """
    kp = ann['keypoint'][0].astype(np.float64)  # T, V, 2
    hips = kp[:, 11:13].mean(axis=1)
    shoulders = kp[:, 5:7].mean(axis=1)
    scale = np.linalg.norm(shoulders - hips, axis=-1).mean() + 1e-6
    x = (kp - hips.mean(axis=0)) / scale
    vel = np.diff(x, axis=0) * (ann['total_frames'] / 50.0)
    feats = [
        x.mean(0),
        x.std(0),
        vel.mean(0),
        np.abs(vel).mean(0),
        x.max(0) - x.min(0)
    ]
    return np.concatenate([f.ravel() for f in feats])


def _fit_softmax(x: np.ndarray,
                 y: np.ndarray,
                 num_classes: int,
                 l2: float = 1e-2,
                 lr: float = 0.5,
                 iters: int = 500) -> np.ndarray:
    """Multinomial logistic regression by full-batch gradient descent."""
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    w = np.zeros((xb.shape[1], num_classes))
    onehot = np.eye(num_classes)[y]
    for _ in range(iters):
        logits = xb @ w
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = xb.T @ (p - onehot) / len(x) + l2 * w
        w -= lr * grad
    return w


def evaluate_handcrafted_baseline(data: dict) -> Dict[str, object]:
    """Train/val a linear classifier on :func:`handcrafted_features`.

    Args:
        data (dict): The demo dataset (``split`` and ``annotations``).

    Returns:
        dict: ``top1`` (8-way val accuracy), ``pair_top1`` (accuracy of
        predicting the right pair), ``within_pair_error_fraction`` (share of
        the errors that confuse the two classes of a pair),
        ``nearest_mean_top1`` (nearest-class-mean accuracy on the same
        standardised features) and ``confusion`` (val confusion matrix,
        rows = true label).
    """
    by_id = {a['frame_dir']: a for a in data['annotations']}
    train = [by_id[i] for i in data['split']['train']]
    val = [by_id[i] for i in data['split']['val']]
    num_classes = 1 + max(a['label'] for a in data['annotations'])
    xtr = np.stack([handcrafted_features(a) for a in train])
    xva = np.stack([handcrafted_features(a) for a in val])
    ytr = np.array([a['label'] for a in train])
    yva = np.array([a['label'] for a in val])
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    xtr, xva = (xtr - mu) / sd, (xva - mu) / sd

    w = _fit_softmax(xtr, ytr, num_classes)
    pred = np.argmax(np.concatenate([xva, np.ones((len(xva), 1))], 1) @ w, 1)
    means = np.stack([xtr[ytr == c].mean(0) for c in range(num_classes)])
    dist = ((xva[:, None] - means[None])**2).sum(-1)
    ncm_pred = dist.argmin(1)

    conf = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(conf, (yva, pred), 1)
    wrong = pred != yva
    within = wrong & (pred // 2 == yva // 2)
    return dict(
        top1=float((pred == yva).mean()),
        pair_top1=float((pred // 2 == yva // 2).mean()),
        within_pair_error_fraction=float(within.sum() / max(wrong.sum(), 1)),
        nearest_mean_top1=float((ncm_pred == yva).mean()),
        confusion=conf.tolist())
