"""The probe check's pieces: feature scale by hand, the standardised
reference probe on features whose class signal hides under a large shared
offset (where an unstandardised lr-3.0 SGD probe fails), and the training
split found through dataset wrappers. The command line on a trained
checkpoint: tests/analysis/test_inference_tsne.py."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmskelcl.analysis.probe_check import (feature_scale, standardised_probe,
                                           train_split_options)


def test_feature_scale_by_hand():
    x = np.array([[3., 4.], [5., 4.], [4., 7.]])
    s = feature_scale(x)
    # norms 5, sqrt(41), sqrt(65); mean feature (4, 5)
    assert s['norm'] == pytest.approx((5 + 41 ** .5 + 65 ** .5) / 3)
    assert s['offset_norm'] == pytest.approx(41 ** .5)
    assert s['channel_mean'] == pytest.approx(4.5)
    # population sd: channel 0 sqrt(2/3), channel 1 sqrt(6/3)
    assert s['channel_sd'] == pytest.approx(((2 / 3) ** .5 + 2 ** .5) / 2)
    with pytest.raises(ValueError, match='N >= 2'):
        feature_scale(x[:1])


def _offset_data(n, seed):
    """Three classes, 16 channels: a shared offset of 1.1 per channel and a
    class signal of 0.05 (the random NW-UCLA backbone's proportions)."""
    signal = np.random.default_rng(100).normal(size=(3, 16))  # shared
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = 1.1 + 0.05 * (signal[y] + 0.3 * rng.normal(size=(n, 16)))
    return x.astype(np.float32), y


def _sgd_probe(x, y, tx, ty, lr=3.0, epochs=15):
    """The released probe's recipe (SGD momentum 0.9, batch 64, FC init
    N(0, 0.02)) on unnormalised features."""
    g = torch.Generator().manual_seed(0)
    fc = torch.nn.Linear(x.shape[1], 3)
    torch.nn.init.normal_(fc.weight, 0, 0.02, generator=g)
    torch.nn.init.zeros_(fc.bias)
    opt = torch.optim.SGD(fc.parameters(), lr=lr, momentum=0.9)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=g)
        for i in range(0, len(X), 64):
            idx = perm[i:i + 64]
            loss = torch.nn.functional.cross_entropy(fc(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    pred = fc(torch.from_numpy(tx)).argmax(1).numpy()
    return 100.0 * (pred == ty).mean()


def test_reference_probe_reads_the_signal_under_the_offset():
    x, y = _offset_data(600, 0)
    tx, ty = _offset_data(300, 1)
    ref = standardised_probe(x, y, tx, ty, inverse_reg=(0.1, 1.0))
    assert set(ref) == {0.1, 1.0}
    for train_acc, test_acc in ref.values():
        assert train_acc > 95 and test_acc > 95
    # the released recipe on the raw features does far worse
    assert _sgd_probe(x, y, tx, ty) < min(t for _, t in ref.values()) - 20


def test_train_split_through_wrappers():
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=5, dataset=dict(
            type='SkeletonDataset', ann_file='a.pkl', split='xsub_train')))))
    assert train_split_options(cfg) == {
        'test_dataloader.dataset.ann_file': 'a.pkl',
        'test_dataloader.dataset.split': 'xsub_train'}
    cfg.train_dataloader.dataset.dataset.pop('split')
    with pytest.raises(KeyError, match='train_dataloader.dataset.split'):
        train_split_options(cfg)
