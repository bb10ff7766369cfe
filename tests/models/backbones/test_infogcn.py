"""InfoGCN: parameter counts, the k-mode matrix against the release's
graphs, equality with a released-format model (``l1..l9``, ``agcn``,
``fc_mu`` ...; ``stnoah1/infogcn`` ``model/infogcn.py``) through
``--arch infogcn``, the latent losses against ``loss.get_mmd_loss``, and a
tiny Runner cycle."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from mmskelcl.models.backbones.infogcn import k_mode_matrix
from mmskelcl.models.convert import convert_state_dict

from test_blockgcn import RefMSTCN, RefTemporalConv, n_params, randomise

# the release's graph/ntu_rgb_d.py and graph/ucla.py edge lists (1-based)
NTU_INWARD = [(2, 1), (2, 21), (21, 3), (3, 4), (21, 5), (5, 6), (6, 7),
              (7, 8), (8, 23), (23, 22), (21, 9), (9, 10), (10, 11), (11, 12),
              (12, 25), (25, 24), (1, 13), (13, 14), (14, 15), (15, 16),
              (1, 17), (17, 18), (18, 19), (19, 20)]
UCLA_INWARD = [(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7),
               (9, 3), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13),
               (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)]


def released_a_vector(inward, V, k):
    """``I - A_outward_binary^k`` as ``InfoGCN.get_A`` builds it."""
    A = np.zeros((V, V))
    for i, j in inward:  # outward = (j, i) of inward; A[edge] = 1
        A[j - 1, i - 1] = 1
    return np.eye(V) - np.linalg.matrix_power(A, k)


@pytest.mark.parametrize('k', [1, 2, 3])
def test_k_mode_matrix_is_the_released_one(k):
    np.testing.assert_array_equal(
        k_mode_matrix('nturgb+d', k, 1, 'parent'),
        released_a_vector(NTU_INWARD, 25, k))
    np.testing.assert_array_equal(
        k_mode_matrix('nwucla', k, 2, 'children'),
        released_a_vector(UCLA_INWARD, 20, k))
    # by hand: k=1, NTU joint 4 (head, index 3) minus its parent, joint 3
    m = k_mode_matrix('nturgb+d', 1, 1, 'parent')
    assert m[3].tolist() == [0, 0, -1, 1] + [0] * 21


class RefSelfAttention(nn.Module):
    def __init__(self, cin, hidden, heads):
        super().__init__()
        self.scale, self.n_heads = hidden**-0.5, heads
        self.to_qk = nn.Linear(cin, hidden * heads * 2)
        self.ln = nn.LayerNorm(cin)

    def forward(self, x):
        N, C, T, V = x.shape
        q, k = self.to_qk(self.ln(x.permute(0, 2, 3, 1))).chunk(2, -1)
        q = q.reshape(N * T, V, self.n_heads, -1).transpose(1, 2)
        k = k.reshape(N * T, V, self.n_heads, -1).transpose(1, 2)
        return (q @ k.transpose(-1, -2) * self.scale).softmax(-1)


class RefSAGC(nn.Module):
    def __init__(self, cin, cout, V, heads=3):
        super().__init__()
        self.num_head = heads
        self.shared_topology = nn.Parameter(torch.eye(V).repeat(heads, 1, 1))
        self.conv_d = nn.ModuleList(nn.Conv2d(cin, cout, 1)
                                    for _ in range(heads))
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1),
                                   nn.BatchNorm2d(cout))
                     if cin != cout else (lambda x: x))
        self.bn = nn.BatchNorm2d(cout)
        self.attn = RefSelfAttention(cin, cin // 8, heads)

    def forward(self, x):
        N, C, T, V = x.shape
        A = self.attn(x) * self.shared_topology[None]
        feat = x.permute(0, 2, 3, 1).reshape(N * T, V, C)
        out = 0
        for h in range(self.num_head):
            z = (A[:, h] @ feat).view(N, T, V, C).permute(0, 3, 1, 2)
            out = out + self.conv_d[h](z)
        return torch.relu(self.bn(out) + self.down(x))


class RefBlock(nn.Module):  # EncodingBlock
    def __init__(self, cin, cout, V, stride=1):
        super().__init__()
        self.agcn = RefSAGC(cin, cout, V)
        self.tcn = RefMSTCN(cout, stride)
        self.residual = (RefTemporalConv(cin, cout, 1, stride)
                         if cin != cout or stride != 1 else (lambda x: x))

    def forward(self, x):
        return torch.relu(torch.relu(self.tcn(self.agcn(x))) +
                          self.residual(x))


class RefInfoGCN(nn.Module):
    def __init__(self, num_class, V, M, a_vector, noise_ratio=0.5):
        super().__init__()
        self.data_bn = nn.BatchNorm1d(M * 64 * V)
        self.A_vector = torch.tensor(a_vector).float()
        self.to_joint_embedding = nn.Linear(3, 64)
        self.pos_embedding = nn.Parameter(torch.randn(1, V, 64))
        spec = [(64, 64, 1)] * 3 + [(64, 128, 2)] + [(128, 128, 1)] * 2 + [
            (128, 256, 2)] + [(256, 256, 1)] * 2
        for i, (cin, cout, s) in enumerate(spec, 1):
            setattr(self, f'l{i}', RefBlock(cin, cout, V, s))
        self.fc = nn.Linear(256, 256)
        self.fc_mu = nn.Linear(256, 256)
        self.fc_logvar = nn.Linear(256, 256)
        self.decoder = nn.Linear(256, num_class)
        self.noise_ratio = noise_ratio

    def forward(self, x):  # (N, C, T, V, M) as released
        N, C, T, V, M = x.shape
        x = x.permute(0, 4, 2, 3, 1).reshape(N * M * T, V, C)
        x = self.to_joint_embedding(self.A_vector @ x) + self.pos_embedding
        x = x.view(N, M, T, V, 64).permute(0, 1, 3, 4, 2).reshape(N, -1, T)
        x = self.data_bn(x).view(N, M, V, 64, T).permute(0, 1, 3, 4, 2)
        x = x.reshape(N * M, 64, T, V)
        for i in range(1, 10):
            x = getattr(self, f'l{i}')(x)
        x = x.view(N, M, 256, -1).mean(3).mean(1)
        x = F.relu(self.fc(x))
        mu, logvar = self.fc_mu(x), self.fc_logvar(x)
        if self.training:
            std = logvar.mul(self.noise_ratio).exp().clamp(max=100)
            return self.decoder(torch.randn_like(std) * std + mu), mu
        return self.decoder(mu), mu


def released(layout, M, K):
    inward, V = (NTU_INWARD, 25) if layout == 'nturgb+d' else (UCLA_INWARD,
                                                                 20)
    torch.manual_seed(0)
    return RefInfoGCN(K, V, M, released_a_vector(inward, V, 1))


def ours(layout, M, K, **head):
    return MODELS.build(dict(
        type='RecognizerGCN',
        backbone=dict(type='InfoGCN', graph_cfg=dict(layout=layout),
                      num_person=M),
        cls_head=dict(type='InfoGCNHead', num_classes=K, **head)))


@pytest.mark.parametrize('layout,M,K,expected', [
    ('nturgb+d', 2, 60, 1_556_807),  # released InfoGCN, NTU RGB+D 60
    ('nwucla', 1, 10, 1_533_722),    # released InfoGCN, NW-UCLA
])
def test_released_parameter_count(layout, M, K, expected):
    assert n_params(released(layout, M, K)) == expected
    assert n_params(ours(layout, M, K)) == expected


@pytest.mark.parametrize('layout,M,N', [('nturgb+d', 2, 3), ('nwucla', 1, 4)])
def test_converted_release_gives_the_same_logits(layout, M, N):
    V, K = (25, 60) if layout == 'nturgb+d' else (20, 10)
    ref = randomise(released(layout, M, K))
    model = ours(layout, M, K).eval()
    state = convert_state_dict('infogcn', ref.state_dict())
    assert 'cls_head.z_prior' not in state  # not saved by the release
    prior = model.cls_head.z_prior.clone()
    model.load_state_dict(state)  # strict: only z_prior kept
    assert torch.equal(model.cls_head.z_prior, prior)
    torch.manual_seed(1)
    x = torch.randn(N, M, 12, V, 3)
    with torch.no_grad():
        expected, mu = ref(x.permute(0, 4, 2, 3, 1))
        feats = model.backbone(x)
        got = model.cls_head(feats)
        latent = model.cls_head.latent(feats)
    scale = expected.abs().max().item()
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5 * scale)
    torch.testing.assert_close(latent['mu'], mu, rtol=1e-4,
                               atol=1e-5 * mu.abs().max().item())
    assert expected.std() > 0.1


def released_mmd(z, z_prior, y, num_cls):
    """``loss.get_mmd_loss`` of the release."""
    y_valid = [i in y for i in range(num_cls)]
    z_mean = torch.stack([z[y == i].mean(dim=0) for i in range(num_cls)])
    l2_z_mean = torch.linalg.norm(z.mean(dim=0), ord=2)
    return F.mse_loss(z_mean[y_valid], z_prior[y_valid]), l2_z_mean


def test_training_losses_are_the_released_ones_and_switchable():
    model = ours('nwucla', 1, 10)
    model.train()
    head = model.cls_head
    torch.manual_seed(3)
    x = torch.randn(6, 1, 8, 20, 3)
    labels = torch.tensor([0, 3, 3, 7, 0, 9])
    samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
    feats = model.backbone(x)
    torch.manual_seed(4)
    scores = head(feats)
    z = head._latent.detach().clone()
    losses = head.loss_by_feat(scores, samples)
    mmd, l2 = released_mmd(z, head.z_prior, labels, 10)
    torch.testing.assert_close(losses['loss_mmd'], 0.1 * mmd)
    torch.testing.assert_close(losses['loss_l2z'], 1e-4 * l2)
    # label smoothing 0.1 as LabelSmoothingCrossEntropy
    logp = scores.log_softmax(-1)
    ce = (0.9 * -logp.gather(1, labels[:, None])[:, 0] +
          0.1 * -logp.mean(-1)).mean()
    torch.testing.assert_close(losses['loss_cls'], ce)
    # the latent is sampled in training: same features, different scores
    assert not torch.allclose(head(feats), scores)
    # switched off
    head.lambda_mmd = head.lambda_l2 = 0
    head(feats)
    assert set(head.loss_by_feat(scores, samples)) == {'loss_cls',
                                                       'top1_acc',
                                                       'top5_acc'}
    # z_prior: orthogonal rows of norm 3 (gain 3), saved in checkpoints
    g = head.z_prior @ head.z_prior.T
    torch.testing.assert_close(g, 9 * torch.eye(10), atol=1e-4, rtol=0)
    assert 'cls_head.z_prior' in model.state_dict()


def test_runner_trains_a_tiny_infogcn(tmp_path):
    from mmengine.runner import Runner
    from tiny_run import tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    model = dict(
        type='RecognizerGCN',
        backbone=dict(type='InfoGCN', graph_cfg=dict(layout='coco'),
                      num_person=1, base_channels=16, num_stages=2,
                      inflate_stages=(), down_stages=(2, )),
        cls_head=dict(type='InfoGCNHead', num_classes=3, in_channels=16))
    cfg = tiny_runner_cfg(ann, str(tmp_path / 'work'), model, max_epochs=2)
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    assert not torch.equal(before['cls_head.fc_mu.weight'],
                           after['cls_head.fc_mu.weight'])
    assert torch.equal(before['cls_head.z_prior'], after['cls_head.z_prior'])
    log = open(osp.join(runner.log_dir, 'vis_data', 'scalars.json')).read()
    assert 'loss_mmd' in log and 'loss_l2z' in log
    assert 0 <= runner.test()['acc/top1'] <= 1


@pytest.mark.parametrize('dataset,classes,persons,batch', [
    ('nwucla', 10, 1, 16), ('ntu60_xsub', 60, 2, 128),
    ('ntu120_xset', 120, 2, 128)])
def test_configs_build_with_the_released_recipe(dataset, classes, persons,
                                                batch):
    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    cfg = Config.fromfile(osp.join(repo, 'configs', dataset,
                                   'infogcn_jm.py'))
    assert cfg.test_dataloader.dataset.stream == 'jm'
    assert cfg.train_dataloader.batch_size == batch
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay, opt.nesterov) == (0.1, 5e-4, True)
    assert cfg.train_cfg.max_epochs == 110
    head = cfg.model.cls_head
    assert (head.lambda_mmd, head.lambda_l2, head.z_prior_gain,
            head.noise_ratio) == (0.1, 1e-4, 3, 0.5)
    model = MODELS.build(cfg.model).eval()
    V = 20 if dataset == 'nwucla' else 25
    with torch.no_grad():
        scores, _ = model.extract_feat(torch.randn(1, 1, persons, 8, V, 3),
                                       stage='head')
    assert scores.shape == (1, classes)
