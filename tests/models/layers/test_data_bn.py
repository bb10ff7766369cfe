"""data_bn_nmtvc: the encoders' input BN, against a hand computation."""
import torch
import torch.nn as nn

from mmskelcl.models.layers import data_bn_nmtvc

N, M, T, V, C = 2, 2, 3, 4, 5


def _bn(channels: int) -> nn.BatchNorm1d:
    bn = nn.BatchNorm1d(channels, affine=False, eps=0.).eval()
    g = torch.Generator().manual_seed(1)
    bn.running_mean.copy_(torch.randn(channels, generator=g))
    bn.running_var.copy_(torch.rand(channels, generator=g) + 0.5)
    return bn


def test_per_person_channels_and_output_layout():
    x = torch.randn(N, M, T, V, C)
    bn = _bn(M * V * C)
    out = data_bn_nmtvc(bn, x)
    assert out.shape == (N * M, C, T, V)
    for n in range(N):
        for m in range(M):
            for v in range(V):
                for c in range(C):
                    k = (m * V + v) * C + c  # channel of (person, joint, xyz)
                    want = (x[n, m, :, v, c] - bn.running_mean[k]) / \
                        bn.running_var[k].sqrt()
                    torch.testing.assert_close(out[n * M + m, c, :, v], want)


def test_shared_over_persons():
    x = torch.randn(N, M, T, V, C)
    bn = _bn(V * C)
    out = data_bn_nmtvc(bn, x, per_person=False)
    k = 2 * C + 3  # joint 2, channel 3: the same statistics for both persons
    for m in range(M):
        want = (x[1, m, :, 2, 3] - bn.running_mean[k]) / \
            bn.running_var[k].sqrt()
        torch.testing.assert_close(out[1 * M + m, 3, :, 2], want)
