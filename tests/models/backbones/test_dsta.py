"""DSTA-Net: positional encodings by hand, one block against a loop
reference written from the equations (matmul, not einsum), the released
size, and the refusals. The tap contract and frozen stages are covered by
``tiny_dsta.py`` in the shared tests."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from mmskelcl.models.layers.dsta import DSTABlock, sinusoid_encoding


def test_positional_encodings_by_hand():
    pe = sinusoid_encoding(4, 3, 2, 'frame')
    assert pe.shape == (1, 4, 3, 2)
    for t in range(3):
        for v in range(2):
            # channel 2i: sin(p / 10000^(2i / C)), 2i + 1: its cosine
            expect = [math.sin(t), math.cos(t), math.sin(t / 100),
                      math.cos(t / 100)]
            assert pe[0, :, t, v].tolist() == pytest.approx(expect, abs=1e-6)
    pj = sinusoid_encoding(4, 3, 2, 'joint')
    assert pj[0, 0, 2, 1] == pytest.approx(math.sin(1))  # joint index 1
    assert pj[0, 3, 0, 1] == pytest.approx(math.cos(1 / 100))
    with pytest.raises(ValueError, match='even'):
        sinusoid_encoding(3, 2, 2, 'frame')


def _conv_bn(seq, x):
    conv, bn = seq[0], seq[1]
    y = F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding)
    return (y - bn.running_mean[:, None, None]) / torch.sqrt(
        bn.running_var[:, None, None] + bn.eps) * bn.weight[:, None, None] \
        + bn.bias[:, None, None]


def _reference(b, x):
    """The block's equations, subset by subset, with matmuls."""
    lrelu = torch.nn.LeakyReLU(0.1)
    N, C, T, V = x.shape
    S, Ci = b.S, b.inter
    # spatial: q, k from x + joint encoding; maps over joints
    qk = F.conv2d(x + b.pes, b.in_nets.weight, b.in_nets.bias)
    q, k = qk[:, :S * Ci], qk[:, S * Ci:]
    parts = []
    for s in range(S):
        qs = q[:, s * Ci:(s + 1) * Ci].reshape(N, Ci * T, V)
        ks = k[:, s * Ci:(s + 1) * Ci].reshape(N, Ci * T, V)
        a = torch.tanh(qs.transpose(1, 2) @ ks / (Ci * T)) * b.alphas[0, s]
        a = a + b.attention0s[0, s]  # (N, V, V): joint u -> joint v
        parts.append(x.reshape(N, C * T, V) @ a)
    y = _conv_bn(b.out_nets, torch.cat(parts, 1).reshape(N, S * C, T, V))
    y = lrelu(_conv_bn(b.downs1, x) + y)
    y = lrelu(_conv_bn(b.downs2, x) + _conv_bn(b.ff_nets, y))
    # temporal: maps over frames, from y + frame encoding
    Co = y.shape[1]
    qk = F.conv2d(y + b.pet, b.in_nett.weight, b.in_nett.bias)
    q, k = qk[:, :S * Ci], qk[:, S * Ci:]
    parts = []
    for s in range(S):
        qs = q[:, s * Ci:(s + 1) * Ci].permute(0, 2, 1, 3).reshape(N, T, -1)
        ks = k[:, s * Ci:(s + 1) * Ci].permute(0, 2, 1, 3).reshape(N, T, -1)
        a = torch.tanh(qs @ ks.transpose(1, 2) / (Ci * V)) * b.alphat[0, s]
        a = a + b.attention0t[0, s]  # (N, T, T): frame t -> frame q
        yt = y.permute(0, 1, 3, 2)  # (N, C, V, T)
        parts.append((yt @ a[:, None]).permute(0, 1, 3, 2))
    z = _conv_bn(b.out_nett, torch.cat(parts, 1))
    z = lrelu(_conv_bn(b.downt1, y) + z)
    return lrelu(_conv_bn(b.downt2, y) + _conv_bn(b.ff_nett, z)), Co


def test_block_matches_the_equations():
    torch.manual_seed(0)
    b = DSTABlock(4, 6, 2, num_frames=5, num_joints=3, stride=2,
                  num_subsets=2, glo_reg_t=True)
    with torch.no_grad():  # break the constant initialisations
        for p in b.parameters():
            p.add_(0.3 * torch.randn_like(p))
        for m in b.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2)
    b.eval()
    x = torch.randn(2, 4, 5, 3)
    with torch.no_grad():
        out = b(x)
        ref, co = _reference(b, x)
    # stride 2 with a 1-frame kernel keeps frames 0, 2, 4: ceil(5 / 2)
    assert out.shape == (2, co, 3, 3)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def test_released_size_and_taps():
    """SkeAttnCLR's DSTA: 8 blocks, 64 frames -> (N, M, 256, 16, 25);
    3,436,744 parameters, the count of the released DSTANet without its
    classifier (net/dsta.py, built with the same configuration)."""
    torch.manual_seed(0)
    model = MODELS.build(dict(type='DSTANet',
                              graph_cfg=dict(layout='nturgb+d')))
    assert sum(p.numel() for p in model.parameters()) == 3436744
    x = torch.randn(1, 2, 64, 25, 3)
    with torch.no_grad():
        out, taps = model(x, taps=('block3', 'final'))
    assert out.shape == (1, 2, 256, 16, 25)
    assert taps['block3'].shape == (1, 2, 128, 32, 25)
    assert torch.equal(taps['final'], out)
    info = model.tap_info(num_frames=64)
    assert (info['final'].channels, info['final'].num_frames) == (256, 16)
    # the positional encodings are rebuilt, not checkpointed
    assert not any(k.endswith(('pes', 'pet')) for k in model.state_dict())


def test_refusals_name_the_fix():
    model = MODELS.build(dict(type='DSTANet', graph_cfg=dict(
        layout='nturgb+d'), num_frames=8, layers=((8, 8, 4, 1), )))
    with pytest.raises(ValueError, match='num_frames'):
        model(torch.randn(1, 2, 9, 25, 3))
    with pytest.raises(ValueError, match='reads 16 channels'):
        MODELS.build(dict(type='DSTANet', graph_cfg=dict(layout='nturgb+d'),
                          layers=((8, 8, 4, 1), (16, 16, 4, 1))))
    with pytest.raises(ValueError, match='att_'):
        DSTABlock(4, 4, 2, 5, 3, att_s=False, glo_reg_s=False)
