"""SkeAttnCLR building blocks against hand computations and independent
references: MHSAM vs torch's MultiheadAttention, mask pooling, the queue
InfoNCE, the batch part mix and the in-model streams vs MMAction2's
transforms."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmaction.datasets.transforms import JointToBone, ToMotion

from mmskelcl.models.losses import QueueInfoNCELoss
from mmskelcl.models.necks import AttnMaskNeck
from mmskelcl.models.utils.skeleton_mix import (NTU_BODY_PARTS,
                                                SkeletonPartMix,
                                                convert_stream)


def _neck(C=16, heads=4, **kw):
    return AttnMaskNeck(in_channels=C, num_heads=heads, projector=dict(
        type='MLP1D', in_channels=C, hid_channels=C, out_channels=8), **kw)


def test_mhsam_matches_torch_multihead_attention():
    torch.manual_seed(0)
    neck = _neck(lam=2.0).eval()
    feat = torch.randn(3, 2, 16, 4, 5)  # (N, M, C, T', V)
    ref = nn.MultiheadAttention(16, 4, bias=True, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(neck.qkv.weight)
        ref.in_proj_bias.copy_(neck.qkv.bias)
        ref.out_proj.weight.copy_(neck.proj.weight)
        ref.out_proj.bias.copy_(neck.proj.bias)
    tokens = feat.permute(0, 1, 3, 4, 2).reshape(6, 20, 16)
    x = nn.functional.layer_norm(tokens, (16, ), neck.norm.weight,
                                 neck.norm.bias)
    expected = torch.sigmoid(2.0 * ref(x, x, x, need_weights=False)[0])
    mask = neck.attention_mask(feat)
    torch.testing.assert_close(mask, expected, rtol=1e-5, atol=1e-6)
    assert mask.shape == (6, 20, 16)
    assert 0 < mask.min() and mask.max() < 1


def test_mask_polarises_with_lambda_and_half_mask_pools_half_gap():
    torch.manual_seed(0)
    feat = torch.randn(2, 2, 16, 4, 5)
    soft_neck = _neck(lam=2.0)
    soft = soft_neck.attention_mask(feat)
    hard = _neck(lam=1e4)
    hard.load_state_dict(soft_neck.state_dict())  # same weights, lam 1e4
    m_hard = hard.attention_mask(feat)
    binary = ((m_hard < 1e-3) | (m_hard > 1 - 1e-3)).float().mean()
    assert binary > 0.95
    assert ((soft < 1e-3) | (soft > 1 - 1e-3)).float().mean() < 0.05
    # proj == 0 -> M_s == 0.5 -> f_s == f_ns == GAP / 2
    neck = _neck()
    nn.init.zeros_(neck.proj.weight)
    nn.init.zeros_(neck.proj.bias)
    mask = neck.attention_mask(feat)
    torch.testing.assert_close(mask, torch.full_like(mask, 0.5))
    f_s, f_ns = neck.pool_masked(feat, mask)
    gap = feat.mean((3, 4)).mean(1)
    torch.testing.assert_close(f_s, gap / 2)
    torch.testing.assert_close(f_ns, gap / 2)


def test_mask_pooling_by_hand_and_sums_to_token_mean():
    torch.manual_seed(1)
    neck = _neck()
    feat = torch.randn(2, 2, 16, 3, 4)
    mask = torch.rand(4, 12, 16)
    f_s, f_ns = neck.pool_masked(feat, mask)
    # explicit loops over persons and tokens (t' major, then v)
    for n in range(2):
        s = torch.zeros(16)
        ns = torch.zeros(16)
        for m in range(2):
            for t in range(3):
                for v in range(4):
                    w = mask[n * 2 + m, t * 4 + v]
                    s += feat[n, m, :, t, v] * w / 12 / 2
                    ns += feat[n, m, :, t, v] * (1 - w) / 12 / 2
        torch.testing.assert_close(f_s[n], s)
        torch.testing.assert_close(f_ns[n], ns)
    torch.testing.assert_close(f_s + f_ns, neck.pool_global(feat))
    # normalising by the mask sum instead
    neck_m = _neck(pool_norm='mask')
    g_s, _ = neck_m.pool_masked(feat, mask)
    tok = feat.permute(0, 1, 3, 4, 2).reshape(4, 12, 16)
    ref = ((tok * mask).sum(1) / mask.sum(1)).view(2, 2, 16).mean(1)
    torch.testing.assert_close(g_s, ref)
    with pytest.raises(ValueError, match='same length'):
        neck.pool_masked(feat, mask[:, :6])


def test_queue_infonce_by_hand_and_stop_gradient():
    q = nn.functional.normalize(torch.tensor([[1., 2., 0.], [0., 1., 1.]]),
                                dim=1).requires_grad_()
    k = nn.functional.normalize(torch.tensor([[1., 1., 0.], [0., 0., 1.]]),
                                dim=1)
    queue = nn.functional.normalize(torch.tensor([[1., 0., 0.],
                                                  [0., 1., 0.],
                                                  [1., 1., 1.]]), dim=1)
    extra = nn.functional.normalize(torch.tensor([[0., 0., 1.],
                                                  [1., 0., 0.]]),
                                    dim=1).requires_grad_()
    tau = 0.2
    loss, acc = QueueInfoNCELoss(tau)(q, k, queue, extra)
    expected = 0.0
    qd, kd, Q, ed = (t.detach().tolist() for t in (q, k, queue, extra))
    top1 = 0
    for i in range(2):
        dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
        logits = [dot(qd[i], kd[i]) / tau]
        logits += [dot(qd[i], row) / tau for row in Q]
        logits += [dot(qd[i], ed[i]) / tau]
        expected += -math.log(math.exp(logits[0]) /
                              sum(math.exp(v) for v in logits)) / 2
        top1 += logits[0] == max(logits)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert acc.item() == pytest.approx(top1 / 2)
    loss.backward()
    assert extra.grad is None and q.grad.abs().sum() > 0
    loss2, _ = QueueInfoNCELoss(tau, detach_extra_negative=False)(
        q, k, queue, extra)
    loss2.backward()
    assert extra.grad.abs().sum() > 0
    no_extra, _ = QueueInfoNCELoss(tau)(q, k, queue)
    assert no_extra.item() < loss.item()  # one negative fewer


def test_part_mix_zeros_exactly_the_region():
    torch.manual_seed(3)
    x = torch.rand(4, 2, 64, 25, 3) + 1  # no zeros
    mix = SkeletonPartMix(mode='zeros')
    for _ in range(20):
        out, region = mix(x)
        assert out.shape == x.shape
        frames = region.any(1).nonzero().flatten()
        joints = region.any(0).nonzero().flatten()
        # a contiguous run of 4..7 units of 4 frames, unit-aligned
        assert frames[0] % 4 == 0 and len(frames) % 4 == 0
        assert 16 <= len(frames) <= 28
        assert torch.equal(frames, torch.arange(frames[0], frames[-1] + 1))
        # the union of 3 or 4 whole semantic parts
        chosen = [p for p in NTU_BODY_PARTS if region[frames[0], p[0]]]
        assert len(chosen) in (3, 4)
        assert sorted(joints.tolist()) == sorted(j for p in chosen
                                                 for j in p)
        assert torch.equal(region, region.any(1)[:, None]
                           & region.any(0)[None])
        zero = (out == 0).all(-1).all(1).all(0)  # (T, V)
        assert torch.equal(zero, region)
        torch.testing.assert_close(out[:, :, ~region], x[:, :, ~region])


def test_part_mix_swaps_from_a_rolled_partner():
    torch.manual_seed(4)
    x = torch.randn(6, 2, 32, 25, 3)
    mix = SkeletonPartMix(temporal_units=(2, 3), mode='swap')
    for _ in range(10):
        out, region = mix(x)
        shifts = [s for s in range(1, 6) if all(
            torch.equal(out[i][:, region], x[(i + s) % 6][:, region])
            for i in range(6))]
        assert len(shifts) == 1 and 1 <= shifts[0] <= 4  # U{1..N-2}
        torch.testing.assert_close(out[:, :, ~region], x[:, :, ~region])
    assert torch.equal(SkeletonPartMix(mode='none')(x)[0], x)
    with pytest.raises(ValueError, match='parts'):
        SkeletonPartMix()(torch.randn(2, 1, 32, 17, 2))
    out, region = SkeletonPartMix(spatial_mode='random')(x)
    assert 10 <= int(region.any(0).sum()) <= 15


@pytest.mark.parametrize('stream', ['b', 'm', 'bm'])
def test_streams_match_mmaction_transforms(stream):
    torch.manual_seed(5)
    x = torch.randn(2, 2, 8, 25, 3)
    out = convert_stream(x, stream)
    for n in range(2):
        kp = x[n].numpy()
        res = dict(keypoint=kp)
        if 'b' in stream:
            res = JointToBone(dataset='nturgb+d')(res)
        if 'm' in stream:
            res = ToMotion(dataset='nturgb+d', target='keypoint')(res)
        np.testing.assert_allclose(out[n].numpy(), res['keypoint'],
                                   atol=1e-6)
    if 'b' in stream and stream == 'b':
        assert (out[..., 20, :] == 0).all()  # joint 21 is the root
        torch.testing.assert_close(out[..., 0, :],
                                   x[..., 0, :] - x[..., 1, :])
    if 'm' in stream:
        assert (out[:, :, -1] == 0).all()
    assert torch.equal(convert_stream(x, 'j'), x)
    with pytest.raises(ValueError, match='stream'):
        convert_stream(x, 'x')
