"""SkeAttnCLR against the release (GitHubOfHyl97/SkeAttnCLR), issue 21
items 6, 7 and 10: the ST-GCN graph, the re-initialisation with an
independent key encoder, the discarded mixed-view global pass and the
release's kNN features, each default or switch checked against the
released rule written out here."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose

from mmskelcl.models.utils.skeleton_mix import convert_stream

from selfsup_helpers import build_tiny_skeattnclr, random_views

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
BACKBONE = dict(type='STGCNTaps',
                graph_cfg=dict(layout='nturgb+d_agcn', mode='spatial'),
                base_channels=16, num_stages=4, inflate_stages=[3],
                down_stages=[2, 3], tcn_dropout=0.0)

# net/utils/ntu_rgb_d.py of the release (1-based): the ST-GCN's graph
RELEASED_INWARD_1B = [
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
    (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
    (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8),
    (24, 25), (25, 12)]


def released_adjacency():
    """``get_spatial_graph``: ``[I, norm(inward), norm(outward)]``,
    ``edge2mat`` sets ``A[j, i]`` for the pair ``(i, j)``, column sums
    normalised (``A D^-1``)."""
    inward = [(i - 1, j - 1) for i, j in RELEASED_INWARD_1B]
    outward = [(j, i) for i, j in inward]

    def edge2mat(link):
        A = np.zeros((25, 25))
        for i, j in link:
            A[j, i] = 1
        return A

    def norm(A):
        d = A.sum(0)
        return A @ np.diag(np.where(d > 0, 1 / np.maximum(d, 1), 0))

    return np.stack([edge2mat([(i, i) for i in range(25)]),
                     norm(edge2mat(inward)), norm(edge2mat(outward))])


def build(**kw):
    return build_tiny_skeattnclr(BACKBONE, 64, **kw)


views = random_views


# ---------------------------------------------------------------- item 6
def test_pretrain_and_downstream_configs_use_the_released_graph():
    A_rel = released_adjacency()
    for kind in ('pretrain', 'linear', 'finetune'):
        cfg = Config.fromfile(osp.join(
            REPO, 'configs', 'ntu60_xsub', f'skeattnclr_stgcn_b_{kind}.py'))
        assert cfg.model.backbone.graph_cfg.layout == 'nturgb+d_agcn'
    bb = MODELS.build(dict(BACKBONE, graph_cfg=cfg.model.backbone.graph_cfg))
    for block in bb.gcn:  # every block's fixed adjacency
        np.testing.assert_allclose(block.gcn.A.numpy(), A_rel, atol=1e-7)
    # the switch: MMAction2's graph joins hand tip and thumb to the hand
    mm = MODELS.build(dict(BACKBONE, graph_cfg=dict(layout='nturgb+d',
                                                    mode='spatial')))
    diff = np.argwhere(np.abs(mm.gcn[0].gcn.A.numpy() - A_rel).sum(0) > 0)
    assert {tuple(d) for d in diff} >= {(21, 22), (22, 21), (23, 24),
                                        (24, 23)}


def test_graph_gives_the_released_graph_convolution():
    """With identical weights, the first block's graph convolution equals
    the release's ``ConvTemporalGraphical`` (conv, then ``einsum
    ('nkctv,kvw->nctw')`` with the released A)."""
    torch.manual_seed(0)
    bb = MODELS.build(BACKBONE).eval()
    gcn = bb.gcn[0].gcn
    x = torch.randn(2, 3, 8, 25)
    conv = gcn.conv(x)
    n, kc, t, v = conv.shape
    A = torch.tensor(released_adjacency(), dtype=torch.float32)
    ref = torch.einsum('nkctv,kvw->nctw', conv.view(n, 3, kc // 3, t, v),
                       A * gcn.PA)
    # MMAction2 applies the BN + ReLU that open the release's tcn here
    torch.testing.assert_close(gcn(x), F.relu(gcn.bn(ref)))


# ---------------------------------------------------------------- item 7
def _weights(module):
    """Re-initialised tensors by the release's class-name rule."""
    out = []
    for name, m in module.named_modules():
        cls = type(m).__name__
        if any(c in cls for c in ('Conv1d', 'Conv2d', 'Linear')) or \
                'BatchNorm' in cls:
            out.append((name, m))
    return out


def test_released_init_statistics_and_biases():
    torch.manual_seed(0)
    model = build()
    mods = _weights(model)
    conv = torch.cat([m.weight.flatten() for _, m in mods
                      if 'BatchNorm' not in type(m).__name__])
    bn = torch.cat([m.weight.flatten() for _, m in mods
                    if 'BatchNorm' in type(m).__name__])
    assert conv.numel() > 20000 and bn.numel() > 500
    assert abs(conv.mean().item()) < 1e-3
    assert conv.std().item() == pytest.approx(0.02, rel=0.03)
    assert bn.mean().item() == pytest.approx(1.0, abs=2e-3)
    assert bn.std().item() == pytest.approx(0.02, rel=0.1)
    for name, m in mods:  # every bias 0 (conv/linear and BN)
        if getattr(m, 'bias', None) is not None:
            assert torch.count_nonzero(m.bias) == 0, name
        # no tensor escaped: each one is within 6 sigma of its mean
        mean = 1.0 if 'BatchNorm' in type(m).__name__ else 0.0
        assert (m.weight - mean).abs().max() < 6 * 0.02, name
    # what the rule does not touch keeps its init: edge importance ones
    assert all(torch.equal(b.gcn.PA, torch.ones_like(b.gcn.PA))
               for b in model.backbone.gcn)


def test_released_init_draws_the_key_encoder_independently():
    torch.manual_seed(0)
    model = build()
    q = dict(model.backbone.named_parameters())
    q.update({'neck.' + k: v for k, v in model.neck.named_parameters()})
    k = dict(model.backbone_k.named_parameters())
    k.update({'neck.' + k: v for k, v in model.neck_k.named_parameters()})
    drawn = {n + '.weight' for n, _ in _weights(model.backbone)} | {
        'neck.' + n + '.weight' for n, _ in _weights(model.neck)}
    differ = {n for n in q if not torch.equal(q[n], k[n])}
    assert differ == drawn  # exactly the re-drawn weights differ
    for n in differ:  # and independently: uncorrelated draws
        a, b = q[n].flatten(), k[n].flatten()
        if a.numel() > 1000:
            assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1]) < 0.1
    assert not any(p.requires_grad for p in model.backbone_k.parameters())
    assert not any(p.requires_grad for p in model.neck_k.parameters())
    # seeded: the same seed gives the same model
    torch.manual_seed(0)
    again = build()
    assert all(torch.equal(a, b) for a, b in zip(
        model.state_dict().values(), again.state_dict().values()))


def test_library_init_switch_restores_the_copy():
    torch.manual_seed(0)
    model = build(init_scheme='library')
    for q_mod, k_mod in ((model.backbone, model.backbone_k),
                         (model.neck, model.neck_k)):
        for (n, a), b in zip(q_mod.state_dict().items(),
                             k_mod.state_dict().values()):
            assert torch.equal(a, b), n
    # the modules' own init (MLP1D: Kaiming fan_out), not N(0, 0.02)
    w = model.neck.projector.mlp[0].weight
    assert w.std().item() == pytest.approx((2 / w.shape[0]) ** 0.5,
                                           rel=0.1)
    bn = model.neck.projector.mlp[1].weight
    assert torch.equal(bn, torch.ones_like(bn))
    with pytest.raises(ValueError, match='init_scheme'):
        build(init_scheme='kaiming')


def test_pretrain_config_defaults_are_released():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ntu60_xsub',
                                   'skeattnclr_stgcn_j_pretrain.py'))
    assert cfg.model.init_scheme == 'released'
    assert cfg.model.discard_mix_global is False
    assert cfg.model.knn_predictor_mode == 'eval'


# --------------------------------------------------------------- item 10
def _bn_inputs(bn, record):
    return bn.register_forward_hook(
        lambda m, inp, out: record.append(inp[0].detach().clone()))


def test_discarded_mix_global_pass_moves_only_bn_statistics():
    torch.manual_seed(0)
    base = build(mix=None)  # x_mix = x_q: the mixed global input is known
    base.train()
    released = copy.deepcopy(base)
    released.discard_mix_global = True
    x = views(n=6)
    rec = []
    hook = _bn_inputs(released.neck.projector.mlp[1], rec)
    torch.manual_seed(1)
    l_rel = released.loss(x)
    hook.remove()
    torch.manual_seed(1)
    l_base = base.loss(x)
    for key in l_base:  # the loss does not see the extra pass
        torch.testing.assert_close(l_rel[key], l_base[key])
    # projector BN inputs in the release's order: q, mix, salient, non-sal.
    assert len(rec) == 4
    torch.testing.assert_close(rec[1], rec[0])
    bn = released.neck.projector.mlp[1]
    expect = torch.zeros_like(bn.running_mean)
    for r in rec:  # BN's running mean, momentum 0.1, by hand
        expect = 0.9 * expect + 0.1 * r.mean(dim=(0, 2))
    torch.testing.assert_close(bn.running_mean, expect)
    assert int(bn.num_batches_tracked) == 4
    assert int(base.neck.projector.mlp[1].num_batches_tracked) == 3
    assert int(released.predictor_g.mlp[1].num_batches_tracked) == 2
    assert int(base.predictor_g.mlp[1].num_batches_tracked) == 1


def test_released_knn_features_use_a_training_mode_predictor():
    torch.manual_seed(0)
    model = build(knn_predictor_mode='train').eval()
    x = views(n=5)[:, :1]
    bn = model.predictor_g.mlp[1]
    before = bn.running_mean.clone()
    samples = model(x, [ActionDataSample() for _ in range(5)],
                    mode='predict')
    feats = torch.stack([s.feat for s in samples])
    # by hand: eval-mode encoder and projector, predictor in train mode
    with torch.no_grad():
        ref_pred = copy.deepcopy(model.predictor_g).train()
        ref_pred.mlp[1].running_mean.copy_(before)
        pooled = model.neck.pool_global(model.backbone(
            convert_stream(x.flatten(0, 1), 'j')))
        ref = F.normalize(ref_pred(model.neck.projector(pooled)), dim=1)
    torch.testing.assert_close(feats, ref)
    assert not model.predictor_g.training  # restored
    assert not torch.equal(bn.running_mean, before)  # statistics moved
    # batch statistics: a sample's feature depends on its batch
    alone = model.extract_feat(x[:2], feat='embedding')
    assert not torch.allclose(alone, feats[:2], atol=1e-4)
    # default: a plain eval pass, batch-independent, statistics kept
    plain = build(knn_predictor_mode='eval').eval()
    stats = plain.predictor_g.mlp[1].running_mean.clone()
    a = plain.extract_feat(x, feat='embedding')
    b = plain.extract_feat(x[:2], feat='embedding')
    torch.testing.assert_close(a[:2], b)
    assert torch.equal(plain.predictor_g.mlp[1].running_mean, stats)


def test_released_knn_augmentation_switch():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ntu60_xsub',
                                   'skeattnclr_stgcn_j_pretrain.py'))
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(2, 40, 25, 3)).astype(np.float32)

    def run(pipeline):
        np.random.seed(0)
        return Compose(pipeline[:4])(dict(keypoint=kp.copy(),
                                          total_frames=40))['keypoint']

    default = cfg.val_dataloader.dataset.pipeline
    assert default[3]['type'] == 'RandomApply' and default[3]['prob'] == 0
    plain = run(default)
    np.testing.assert_allclose(run(default[:3]), plain)  # identity
    cfg.merge_from_dict({
        'val_dataloader.dataset.pipeline.3.prob': 1.0,
        'val_cfg.bank_dataloader.dataset.pipeline.3.prob': 1.0},
        allow_list_keys=True)
    for loader in (cfg.val_dataloader, cfg.val_cfg.bank_dataloader):
        aug = run(loader.dataset.pipeline)
        assert aug.shape == plain.shape
        assert not np.allclose(aug, plain)
        assert [t['type'] for t in loader.dataset.pipeline[3].transforms
                ] == ['TemporalMirrorCrop', 'RandomShear']


@pytest.mark.parametrize('scheme', ['released', 'library'])
def test_bigru_key_is_its_own_draw_as_released(scheme):
    """The release builds query and key encoders separately, so the GRU
    weights (Xavier at construction, not touched by ``weights_init``) differ
    too; ``init_scheme='library'`` copies them."""
    torch.manual_seed(0)
    model = build(
        init_scheme=scheme,
        backbone=dict(type='BiGRU', graph_cfg=dict(layout='nturgb+d'),
                      hidden_channels=16, num_layers=1),
        neck=dict(type='AttnMaskNeck', in_channels=32, num_heads=4,
                  pool='last',
                  projector=dict(type='MLP1D', in_channels=32,
                                 hid_channels=64, out_channels=16)))
    q = model.backbone.layers[0].fwd.weight_ih_l0
    k = model.backbone_k.layers[0].fwd.weight_ih_l0
    assert torch.equal(q, k) is (scheme == 'library')
    assert not k.requires_grad
