"""The same SkeAttnCLR neck on the three encoders of the paper's Table 2
(ST-GCN, BiGRU, DSTA-Net): token layouts, last-step pooling of the BiGRU,
a loss step of each (tiny sizes), and the shipped pretraining configs at
full size."""
import math
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
NTU = dict(layout='nturgb+d', mode='spatial')
C = 32  # every tiny encoder's output channels
ENCODERS = {
    'stgcn': (dict(type='STGCNTaps', graph_cfg=NTU, base_channels=16,
                   num_stages=4, inflate_stages=[3], down_stages=[2, 3],
                   tcn_dropout=0.0), 'mean'),
    'dsta': (dict(type='DSTANet', graph_cfg=NTU, num_frames=16,
                  layers=((8, 8, 4, 1), (8, 16, 4, 2), (16, C, 4, 2))),
             'mean'),
    'bigru': (dict(type='BiGRU', graph_cfg=NTU, hidden_channels=C // 2,
                   num_layers=2), 'last'),
}


def neck(pool, **kw):
    return MODELS.build(dict(
        type='AttnMaskNeck', in_channels=C, num_heads=4, pool=pool,
        projector=dict(type='MLP1D', in_channels=C, hid_channels=C,
                       out_channels=16), **kw))


def build(name, queue_len=24, feat_dim=16):
    backbone, pool = ENCODERS[name]
    model = MODELS.build(dict(
        type='SkeAttnCLR', backbone=backbone,
        neck=dict(type='AttnMaskNeck', in_channels=C, num_heads=4, pool=pool,
                  projector=dict(type='MLP1D', in_channels=C,
                                 hid_channels=64, out_channels=feat_dim)),
        predictor=dict(type='MLP1D', in_channels=feat_dim, hid_channels=64,
                       out_channels=feat_dim),
        mix=dict(type='SkeletonPartMix', temporal_units=(1, 2)),
        queue_len=queue_len, feat_dim=feat_dim))
    model.init_weights()
    return model


@pytest.mark.parametrize('name,tokens', [('stgcn', (8, 4 * 25, C)),
                                         ('dsta', (8, 4 * 25, C)),
                                         ('bigru', (4, 16, C))])
def test_token_layout_of_each_encoder(name, tokens):
    """ST-GCN and DSTA: T'V tokens per person (person-major, then frame,
    then joint); BiGRU: one sequence of T steps per clip."""
    torch.manual_seed(0)
    backbone = MODELS.build(ENCODERS[name][0]).eval()
    with torch.no_grad():
        feat = backbone(torch.randn(4, 2, 16, 25, 3))
    x = neck(ENCODERS[name][1]).tokens(feat)
    assert x.shape == tokens
    N, M, _, T, V = feat.shape
    n, m, t, v = 3, M - 1, T - 1, V - 1
    assert torch.equal(x[n * M + m, t * V + v], feat[n, m, :, t, v])


def test_last_step_pooling_reads_the_final_step_only():
    torch.manual_seed(0)
    nk = neck('last')
    feat = torch.randn(3, 1, C, 5, 1)
    mask = torch.rand(3, 5, C)
    last = feat[:, 0, :, -1, 0]
    assert torch.equal(nk.pool_global(feat), last)
    f_s, f_ns = nk.pool_masked(feat, mask)
    torch.testing.assert_close(f_s, last * mask[:, -1])
    torch.testing.assert_close(f_ns, last * (1 - mask[:, -1]))
    # the mask of the last step still depends on every step (attention)
    feat2 = feat.clone()
    feat2[:, :, :, 0] += torch.randn(3, 1, C, 1)  # the first step only
    assert not torch.allclose(nk.attention_mask(feat)[:, -1],
                              nk.attention_mask(feat2)[:, -1])
    with pytest.raises(ValueError, match="pool='mean'"):
        nk.pool_global(torch.randn(2, 2, C, 4, 25))
    with pytest.raises(ValueError, match='pool must be'):
        neck('max')


@pytest.mark.parametrize('name', sorted(ENCODERS))
def test_loss_step_with_each_encoder(name):
    torch.manual_seed(0)
    K = 4096
    model = build(name, queue_len=K, feat_dim=128)
    model.train()
    losses = model.loss(torch.randn(8, 2, 2, 16, 25, 3))
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    # at init (random unit queue) InfoNCE is about log(K + 1), the local
    # terms log(K + 2) (one more negative)
    assert losses['loss_global'].item() == pytest.approx(
        math.log(K + 1), abs=0.6)
    for key in ('nce_salient', 'nce_nonsalient'):
        assert losses[key].item() == pytest.approx(math.log(K + 2), abs=0.6)
    total.backward()
    assert all(p.grad is not None for p in model.backbone.parameters()
               if p.requires_grad)
    assert model.neck.qkv.weight.grad.abs().sum() > 0
    assert not any(p.requires_grad or p.grad is not None
                   for p in model.backbone_k.parameters())
    # the keys of this batch were enqueued
    assert int(model.queue.ptr) == 8
    before = [p.clone() for p in model.backbone_k.parameters()]
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(1.0)
    model.momentum_update(0.5)
    for b, p_k, p_q in zip(before, model.backbone_k.parameters(),
                           model.backbone.parameters()):
        torch.testing.assert_close(p_k, 0.5 * b + 0.5 * p_q)


@pytest.mark.parametrize('encoder,channels', [('bigru', 2048),
                                              ('dsta', 256)])
def test_pretrain_configs_build_at_full_size(encoder, channels):
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'ntu60_xsub',
        f'skeattnclr_{encoder}_j_pretrain.py'))
    assert cfg.model.neck.in_channels == channels
    assert cfg.model.neck.projector.in_channels == channels
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    losses = model.loss(torch.randn(2, 2, 2, 64, 25, 3))
    assert all(torch.isfinite(v) for v in losses.values())
    with torch.no_grad():
        feat = model.backbone(torch.randn(1, 2, 64, 25, 3))
    expect = (1, 1, 2048, 64, 1) if encoder == 'bigru' else \
        (1, 2, 256, 16, 25)
    assert feat.shape == expect


@pytest.mark.parametrize('encoder', ['bigru', 'dsta'])
@pytest.mark.parametrize('stream', ['j', 'm'])
def test_linear_configs_freeze_the_encoder_and_classify(encoder, stream):
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'ntu60_xsub', f'skeattnclr_{encoder}_{stream}_'
        'linear.py'))
    bb = cfg.model.backbone
    assert bb.init_cfg == dict(
        type='Pretrained', prefix='backbone.', checkpoint='work_dirs/ntu60_'
        f'xsub/skeattnclr_{encoder}_{stream}_pretrain/epoch_300.pth')
    assert cfg.train_dataloader.dataset.stream == (
        'jm' if stream == 'm' else stream)
    assert cfg.optim_wrapper.optimizer.lr == 3.0
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # weights not loaded: no init_weights
    assert not any(p.requires_grad for p in model.backbone.parameters())
    model.train()
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    with torch.no_grad():
        scores, _ = model.extract_feat(torch.randn(2, 1, 2, 64, 25, 3),
                                       stage='head')
    assert scores.shape == (2, 60)
