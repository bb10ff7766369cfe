"""SkeAttnCLR model invariants (spec section 7.8): key encoder = query
encoder at start with init_scheme='library' (the released default draws it
independently: test_skeattnclr_release_fidelity.py) and frozen, EMA maths by hand, logits against the queue
before the batch, enqueued keys, pointer wrap, loss at init ~ log(K + 1),
gradient paths, the switches."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmskelcl.models.utils.skeleton_mix import convert_stream

from selfsup_helpers import build_tiny_skeattnclr, random_views

BACKBONE = dict(type='STGCN', graph_cfg=dict(layout='nturgb+d',
                                             mode='spatial'),
                base_channels=16, num_stages=4, inflate_stages=[3],
                down_stages=[2, 3], tcn_dropout=0.0)


def build(**kw):
    return build_tiny_skeattnclr(BACKBONE, 32, **kw)


views = random_views


def _key_embedding(model, x_k):
    with torch.no_grad():
        x = convert_stream(x_k, model.stream)
        return F.normalize(model.neck_k(model.backbone_k(x)), dim=1)


def test_key_encoder_starts_as_copy_and_is_frozen():
    # the copy is init_scheme='library' (MoCo); the released default draws
    # the key independently (test_skeattnclr_release_fidelity.py)
    torch.manual_seed(0)
    model = build(init_scheme='library')
    q = {**model.backbone.state_dict(), **{
        'neck.' + k: v for k, v in model.neck.state_dict().items()}}
    k = {**model.backbone_k.state_dict(), **{
        'neck.' + k: v for k, v in model.neck_k.state_dict().items()}}
    assert q.keys() == k.keys()
    for name in q:
        assert torch.equal(q[name], k[name]), name
    assert not any(p.requires_grad for p in model.backbone_k.parameters())
    assert not any(p.requires_grad for p in model.neck_k.parameters())
    assert all(p.requires_grad for p in model.backbone.parameters())


@pytest.mark.parametrize('key_bn', ['ema', 'own'])
def test_momentum_update_by_hand(key_bn):
    torch.manual_seed(0)
    model = build(key_bn=key_bn)
    model.train()
    model.loss(views())  # moves the query BN stats and the key's own
    q_params = [p.detach().clone() for p in model.backbone.parameters()]
    k_params = [p.detach().clone() for p in model.backbone_k.parameters()]
    bn_q = model.backbone.data_bn
    bn_k = model.backbone_k.data_bn
    mean_q, mean_k = bn_q.running_mean.clone(), bn_k.running_mean.clone()
    assert not torch.equal(mean_q, mean_k) or key_bn == 'ema'
    with torch.no_grad():  # make the query differ from the key
        for p in model.backbone.parameters():
            p.add_(1.0)
    model.momentum_update(0.9)
    for pq, pk, new in zip(q_params, k_params, model.backbone_k.parameters()):
        torch.testing.assert_close(new, 0.9 * pk + 0.1 * (pq + 1.0))
    if key_bn == 'ema':
        torch.testing.assert_close(bn_k.running_mean,
                                   0.9 * mean_k + 0.1 * mean_q)
        assert torch.equal(bn_k.num_batches_tracked,
                           bn_q.num_batches_tracked)
    else:
        assert torch.equal(bn_k.running_mean, mean_k)
    before = [p.clone() for p in model.backbone_k.parameters()]
    model.momentum_update(1.0)
    assert all(torch.equal(a, b)
               for a, b in zip(before, model.backbone_k.parameters()))
    model.momentum_update(0.0)
    assert all(torch.equal(a, b) for a, b in zip(
        model.backbone.parameters(), model.backbone_k.parameters()))


def test_logits_use_the_queue_before_the_batch_and_keys_are_enqueued():
    torch.manual_seed(0)
    model = build(queue_len=10)
    model.train()
    keys = []
    for step in range(3):  # batches of 4 into 10 slots: ptr 4, 8, 2
        x = views(seed=step)
        queue_before = model.queue.feats.clone()
        z_k = _key_embedding(model, x[:, 1])
        with torch.no_grad():
            xq = convert_stream(x[:, 0], model.stream)
            z_q = F.normalize(model.predictor_g(model.neck(
                model.backbone(xq))), dim=1)
        losses = model.loss(x)
        logits = torch.cat([(z_q * z_k).sum(1, keepdim=True),
                            z_q @ queue_before.t()], 1) / 0.2
        expected = F.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
        torch.testing.assert_close(losses['loss_global'].detach(), expected,
                                   rtol=1e-4, atol=1e-5)
        slots = [(4 * step + i) % 10 for i in range(4)]
        torch.testing.assert_close(model.queue.feats[slots], z_k)
        assert int(model.queue.ptr) == (4 * (step + 1)) % 10
        keys.append(z_k)
    # after the wrap: 0, 1 from batch 3; 2, 3 still from batch 1; 4-7 batch 2
    torch.testing.assert_close(model.queue.feats[:2], keys[2][2:])
    torch.testing.assert_close(model.queue.feats[2:4], keys[0][2:])
    torch.testing.assert_close(model.queue.feats[4:8], keys[1])


def test_loss_at_init_is_about_log_k_and_gradient_paths():
    torch.manual_seed(0)
    K = 4096
    model = build(queue_len=K, feat_dim=128,
                  neck=dict(type='AttnMaskNeck', in_channels=32,
                            num_heads=4,
                            projector=dict(type='MLP1D', in_channels=32,
                                           hid_channels=64,
                                           out_channels=128)),
                  predictor=dict(type='MLP1D', in_channels=128,
                                 hid_channels=64, out_channels=128))
    model.train()
    losses = model.loss(views(n=8))
    assert losses['loss_global'].item() == pytest.approx(
        math.log(K + 1), abs=0.6)
    assert losses['nce_salient'].item() == pytest.approx(
        math.log(K + 2), abs=0.6)
    assert losses['nce_nonsalient'].item() == pytest.approx(
        math.log(K + 2), abs=0.6)
    torch.testing.assert_close(losses['loss_salient'],
                               0.5 * losses['nce_salient'])
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    for name in ('qkv.weight', 'proj.weight', 'norm.weight'):
        assert getattr(model.neck, name.split('.')[0]).weight.grad.abs() \
            .sum() > 0, name
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.backbone.gcn[0].parameters())
    for head in (model.predictor_g, model.predictor_s, model.predictor_ns):
        assert head.mlp[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.backbone_k.parameters())
    assert all(p.grad is None for p in model.neck_k.parameters())


def test_switches_baseline_mu_and_paper_literal():
    torch.manual_seed(0)
    base = build(local_branch=False)
    assert not hasattr(base.neck, 'qkv') and base.mix is None
    losses = base.loss(views())
    assert set(k for k in losses if k.startswith('loss')) == {'loss_global'}
    assert losses['loss_global'].requires_grad
    mu1 = build(mu=1.0)
    out = mu1.loss(views())
    assert out['loss_nonsalient'].item() == 0 and out['nce_nonsalient'] > 0
    # key = query weights (init_scheme='library'; the released init draws
    # the key encoder independently, so z_q != z_k there)
    literal = build(predictor=None, init_scheme='library')
    assert literal.predictor_g is None
    x = views()
    x[:, 1] = x[:, 0]
    queue = literal.queue.feats.clone()
    z = _key_embedding(literal, x[:, 1])
    out = literal.loss(x)
    # no predictor, same view twice: z_q == z_k (same weights), so the
    # positive logit is 1 / tau: loss = logsumexp([5, z.queue / tau]) - 5
    expected = (torch.logsumexp(torch.cat(
        [torch.full((4, 1), 5.0), z @ queue.t() / 0.2], 1), 1) - 5).mean()
    torch.testing.assert_close(out['loss_global'].detach(), expected,
                               rtol=1e-4, atol=1e-5)
    assert expected < 1.0
    with pytest.raises(ValueError, match='two views'):
        literal.loss(views()[:, :1])
    with pytest.raises(ValueError, match='mu'):
        build(mu=1.5)


def test_extract_feat_averages_clips_and_predict_sets_feat():
    torch.manual_seed(0)
    model = build(stream='b').eval()
    x = views(n=3)
    both = model.extract_feat(x)
    one = model.extract_feat(x[:, :1])
    two = model.extract_feat(x[:, 1:])
    torch.testing.assert_close(both, (one + two) / 2)
    assert both.shape == (3, 32)
    emb = model.extract_feat(x[:, :1], feat='embedding')
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))
    from mmaction.structures import ActionDataSample
    samples = model(x[:, :1], [ActionDataSample() for _ in range(3)],
                    mode='predict')
    torch.testing.assert_close(torch.stack([s.feat for s in samples]), emb)
