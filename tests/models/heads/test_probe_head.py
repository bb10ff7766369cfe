"""ProbeHead: without a norm it is MMAction2's GCNHead (same keys, same
scores); with feat_norm='bn' its FC sees the pooled feature standardised
(batch statistics in training, running statistics in eval), so the scores
do not depend on the features' per-channel scale and offset."""
import pytest
import torch
from mmaction.models.heads.gcn_head import GCNHead
from mmaction.registry import MODELS

from mmskelcl.models.heads import ProbeHead


def _features(seed=0, n=6, m=2, c=8, t=5, v=4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, m, c, t, v, generator=g)


def test_without_norm_it_is_gcnhead():
    torch.manual_seed(0)
    ref = GCNHead(num_classes=5, in_channels=8, dropout=0.0)
    ref.init_weights()
    head = ProbeHead(num_classes=5, in_channels=8)
    assert head.state_dict().keys() == ref.state_dict().keys()
    head.load_state_dict(ref.state_dict())
    x = _features()
    for mode in (True, False):
        head.train(mode), ref.train(mode)
        torch.testing.assert_close(head(x), ref(x), rtol=0, atol=1e-6)


def test_bn_standardises_the_pooled_feature_by_hand():
    head = ProbeHead(num_classes=3, in_channels=8, feat_norm='bn')
    assert not list(head.norm.parameters())  # nothing learnt in the norm
    x = _features(1)
    pooled = x.mean(dim=(3, 4)).mean(dim=1)  # (N, C): T, V, then persons
    w, b = head.fc.weight.detach(), head.fc.bias.detach()
    # training: batch mean and biased batch variance
    head.train()
    mu, var = pooled.mean(0), pooled.var(0, unbiased=False)
    expected = ((pooled - mu) / torch.sqrt(var + 1e-6)) @ w.T + b
    torch.testing.assert_close(head(x), expected, rtol=1e-5, atol=1e-5)
    # eval: the running statistics (set by hand here)
    head.eval()
    head.norm.running_mean.copy_(torch.linspace(-1, 1, 8))
    head.norm.running_var.copy_(torch.linspace(0.5, 4, 8))
    expected = ((pooled - head.norm.running_mean) /
                torch.sqrt(head.norm.running_var + 1e-6)) @ w.T + b
    torch.testing.assert_close(head(x), expected, rtol=1e-5, atol=1e-5)


def test_bn_probe_is_blind_to_feature_scale_and_offset():
    plain = ProbeHead(num_classes=4, in_channels=8)
    normed = ProbeHead(num_classes=4, in_channels=8, feat_norm='bn')
    normed.load_state_dict(plain.state_dict(), strict=False)
    plain.train(), normed.train()
    x = _features(2)
    scale = torch.linspace(1., 30., 8).view(1, 1, 8, 1, 1)
    shifted = x * scale + 5.
    torch.testing.assert_close(normed(shifted), normed(x), rtol=1e-3,
                               atol=1e-3)
    # the plain head's scores move with the scale (what lr 3.0 runs into)
    assert (plain(shifted) - plain(x)).abs().max() > 1.


def test_registry_and_bad_arguments():
    head = MODELS.build(dict(type='ProbeHead', num_classes=10,
                             in_channels=16, feat_norm='bn'))
    assert isinstance(head.norm, torch.nn.BatchNorm1d)
    assert head.norm.eps == 1e-6
    with pytest.raises(ValueError, match="feat_norm='ln'"):
        ProbeHead(num_classes=10, in_channels=16, feat_norm='ln')
    with pytest.raises(ValueError, match='C = 16'):
        head(torch.randn(2, 1, 8, 3, 4))
