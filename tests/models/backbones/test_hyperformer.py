"""Hyperformer: released parameter counts, hop distances, and the released
forward semantics through converted weights.

``Ref*`` below is an independent minimal re-implementation of the released
``model/Hyperformer.py`` (ZhouYuxuanYX/Hyperformer, CSRE's encoder) with its
module names and its own formulation (hop matrix by set differences of
matrix powers, the four attention terms summed separately, the
``(N, C, T, V, M)`` input), so the converter and our module are checked
against the release, not against themselves.
"""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.runner import Runner
from tiny_run import tiny_runner_cfg, write_tiny_pickle

from mmskelcl.models.backbones.hyperformer import Hyperformer, hop_distances
from mmskelcl.models.convert import convert_state_dict
from mmskelcl.structures.layouts import build_graph

NTU_LABEL = [0, 4, 2, 2, 2, 2, 1, 1, 2, 2, 1, 1, 2, 3, 3, 3, 2, 3, 3, 3, 1,
             0, 1, 0, 1]  # released NTU configs, every stream
UCLA_J = [0] * 4 + [1] * 8 + [2] * 8  # released UCLA joint / vel
UCLA_B = [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 2, 2, 2, 0, 2, 2, 2]


def recognizer(layout, num_person, num_classes, joint_label, **kw):
    return MODELS.build(dict(
        type='RecognizerGCN',
        backbone=dict(type='Hyperformer', graph_cfg=dict(layout=layout),
                      num_person=num_person, joint_label=joint_label, **kw),
        cls_head=dict(type='GCNHead', num_classes=num_classes,
                      in_channels=216)))


@pytest.mark.parametrize('layout,num_person,num_classes,label,expected', [
    ('nturgb+d', 2, 60, NTU_LABEL, 2_729_194),  # released, NTU RGB+D 60
    ('nturgb+d', 2, 120, NTU_LABEL, 2_742_214),  # released, NTU RGB+D 120
    ('nwucla', 1, 10, UCLA_J, 2_695_754),  # released, NW-UCLA
])
def test_released_parameter_count(layout, num_person, num_classes, label,
                                  expected):
    model = recognizer(layout, num_person, num_classes, label)
    assert sum(p.numel() for p in model.parameters()) == expected


# --------------------------------------------------------------- reference
def released_hops(A):
    """The released hop matrix: reachability in <= i steps, differenced."""
    h1 = A.sum(0)
    h1[h1 != 0] = 1
    V = h1.shape[0]
    h = [np.eye(V), h1] + [None] * (V - 2)
    for i in range(2, V):
        h[i] = h[i - 1] @ h1.T
        h[i][h[i] != 0] = 1
    hops = np.zeros((V, V))
    for i in range(V - 1, 0, -1):
        if np.any(h[i] - h[i - 1]):
            hops += i * (h[i] - h[i - 1])
    return torch.tensor(hops).long()


@pytest.mark.parametrize('layout', ['nturgb+d', 'nwucla', 'coco'])
def test_hop_distances_equal_the_released_matrix(layout):
    A = build_graph(dict(layout=layout)).A
    assert np.array_equal(hop_distances(A), released_hops(A.copy()).numpy())


def test_hop_distances_by_hand():
    ntu = hop_distances(build_graph(dict(layout='nturgb+d')).A)
    # left hand tip 22 -> 8 7 6 5 21 2 1 17 18 19 -> right foot 20
    assert ntu[21, 19] == ntu[19, 21] == 11 == ntu.max()
    assert ntu[3, 15] == 8  # head 4 -> 3 21 2 1 13 14 15 -> left foot 16
    assert (np.diag(ntu) == 0).all()
    ucla = hop_distances(build_graph(dict(layout='nwucla')).A)
    assert ucla[7, 15] == 10 == ucla.max()  # left hand -> left foot
    chain = np.eye(4) + np.eye(4, k=1)
    assert hop_distances(chain)[0].tolist() == [0, 1, 2, 3]


class RefTemporalConv(nn.Module):
    def __init__(self, c, stride, dilation):
        super().__init__()
        self.conv = nn.Conv2d(c, c, (5, 1), (stride, 1), (2 * dilation, 0),
                              (dilation, 1))
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return self.bn(self.conv(x))


class RefMSTCN(nn.Module):  # MultiScale_TemporalConv, dilations (1, 2)
    def __init__(self, c, stride):
        super().__init__()
        b = c // 4

        def stem():
            return [nn.Conv2d(c, b, 1), nn.BatchNorm2d(b), nn.ReLU()]

        self.branches = nn.ModuleList(
            [nn.Sequential(*stem(), RefTemporalConv(b, stride, d))
             for d in (1, 2)] + [
                nn.Sequential(*stem(), nn.MaxPool2d((3, 1), (stride, 1),
                                                    (1, 0)),
                              nn.BatchNorm2d(b)),
                nn.Sequential(nn.Conv2d(c, b, 1, stride=(stride, 1)),
                              nn.BatchNorm2d(b))])

    def forward(self, x):
        return torch.cat([br(x) for br in self.branches], 1)


class RefMHSA(nn.Module):
    def __init__(self, dim_in, dim, A, H):
        super().__init__()
        self.H, self.dim, self.scale = H, dim, (dim // H)**-0.5
        self.hops = released_hops(A.copy())
        V = A.shape[-1]
        self.rpe = nn.Parameter(torch.zeros(self.hops.max() + 1, dim))
        self.w1 = nn.Parameter(torch.zeros(H, dim // H))
        self.outer = nn.Parameter(torch.stack([torch.eye(V)] * H))
        self.alpha = nn.Parameter(torch.zeros(1))
        self.kv = nn.Conv2d(dim_in, dim * 2, 1, bias=False)
        self.q = nn.Conv2d(dim_in, dim, 1, bias=False)
        self.proj = nn.Conv2d(dim, dim, 1, groups=6)

    def forward(self, x, e):
        N, C, T, V = x.shape
        H, d = self.H, self.dim // self.H
        kv = self.kv(x).reshape(N, 2, H, d, T, V).permute(1, 0, 4, 2, 5, 3)
        k, v = kv[0], kv[1]
        q = self.q(x).reshape(N, H, d, T, V).permute(0, 3, 1, 4, 2)
        e_k = e.reshape(N, H, d, T, V).permute(0, 3, 1, 4, 2)
        k_r = self.rpe[self.hops].view(V, V, H, d)
        b = torch.einsum('bthnc, nmhc->bthnm', q, k_r)
        c = torch.einsum('bthnc, bthmc->bthnm', q, e_k)
        dd = torch.einsum('hc, bthmc->bthm', self.w1, e_k).unsqueeze(-2)
        attn = ((q @ k.transpose(-2, -1) + b + c + dd) * self.scale).softmax(
            -1)
        x = (self.alpha * attn + self.outer) @ v
        return self.proj(x.transpose(3, 4).reshape(N, T, -1, V).transpose(
            1, 2))


class RefUnit(nn.Module):  # TCN_ViT_unit with its unit_vit as vit1
    def __init__(self, cin, c, A, H, label, stride=1):
        super().__init__()
        self.label = label
        self.vit1 = nn.Module()
        self.vit1.norm1 = nn.LayerNorm(cin)
        self.vit1.attn = RefMHSA(cin, c, A, H)
        if cin != c:
            self.vit1.skip_proj = nn.Conv2d(cin, c, 1, bias=False)
        self.vit1.pe_proj = nn.Conv2d(cin, c, 1, bias=False)
        self.tcn1 = RefMSTCN(c, stride)
        if cin != c or stride != 1:
            self.residual = nn.Module()
            self.residual.conv = nn.Conv2d(cin, c, 1, (stride, 1))
            self.residual.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        vit = self.vit1
        onehot = F.one_hot(torch.tensor(self.label)).float()
        z = vit.pe_proj(x @ (onehot / onehot.sum(0, keepdim=True)))
        e = z.permute(3, 0, 1, 2)[self.label].permute(1, 2, 3, 0)
        a = vit.attn(vit.norm1(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), e)
        skip = vit.skip_proj(x) if hasattr(vit, 'skip_proj') else x
        res = (self.residual.bn(self.residual.conv(x))
               if hasattr(self, 'residual') else x)
        return F.relu(self.tcn1(skip + a) + res)


class RefModel(nn.Module):
    def __init__(self, num_class, V, M, layout, label, H=9):
        super().__init__()
        A = build_graph(dict(layout=layout, mode='spatial')).A
        self.data_bn = nn.BatchNorm1d(M * 3 * V)
        for i in range(1, 11):
            setattr(self, f'l{i}', RefUnit(3 if i == 1 else 24 * H, 24 * H,
                                           A, H, label,
                                           2 if i in (5, 8) else 1))
        self.fc = nn.Linear(24 * H, num_class)

    def forward(self, x):  # (N, C, T, V, M)
        N, C, T, V, M = x.size()
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).reshape(N, M * V * C, T))
        x = x.view(N * M, V, C, T).permute(0, 2, 3, 1)
        for i in range(1, 11):
            x = getattr(self, f'l{i}')(x)
        return self.fc(x.view(N, M, x.shape[1], -1).mean(3).mean(1))


@pytest.mark.parametrize('layout,M,V,classes,label', [
    ('nturgb+d', 2, 25, 60, NTU_LABEL),
    ('nwucla', 1, 20, 10, UCLA_B),
])
def test_converted_released_weights_give_the_released_logits(
        layout, M, V, classes, label):
    torch.manual_seed(0)
    ref = RefModel(classes, V, M, layout, label)
    with torch.no_grad():  # every tensor non-trivial (rpe, w1, alpha, ...)
        for p in ref.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        for m in ref.modules():  # attention fully on, strong encodings
            if isinstance(m, RefMHSA):
                m.alpha.fill_(1.)
                m.rpe.normal_(0, 0.5), m.w1.normal_(0, 0.5)
        for name, b in ref.named_buffers():
            if name.endswith('running_mean'):
                b.normal_(0, 0.1)
            elif name.endswith('running_var'):
                b.uniform_(1, 2)
    ours = recognizer(layout, M, classes, label)
    missing = ours.load_state_dict(
        convert_state_dict('hyperformer', ref.state_dict()), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    ref.eval(), ours.eval()
    x = torch.randn(2, M, 12, V, 3)
    with torch.no_grad():
        want = ref(x.permute(0, 4, 2, 3, 1))
        got = ours.cls_head(ours.backbone(x))
    assert want.abs().max() > 1  # not a vanishing signal
    torch.testing.assert_close(got, want, rtol=1e-5,
                               atol=1e-5 * want.abs().max().item())


def test_converter_errors_and_csre_branch():
    sd = {'l3.vit1.attn.rpe': torch.zeros(1), 'fc.bias': torch.zeros(2),
          'std.convs.weight': torch.zeros(1)}
    with pytest.warns(UserWarning, match='STFD'):
        out = convert_state_dict('hyperformer', sd)
    assert set(out) == {'backbone.blocks.2.attn.rpe', 'cls_head.fc.bias'}
    with pytest.raises(KeyError, match='l3.gcn1.x'):
        convert_state_dict('hyperformer', {'l3.gcn1.x': torch.zeros(1)})


def test_final_tap_is_the_map_csre_reads():
    """``final`` = the last block's output before pooling, (N, M, 216, T/4,
    V), with T' derived from the clip (52 -> 13 on NW-UCLA, not 16)."""
    torch.manual_seed(0)
    m = Hyperformer(graph_cfg=dict(layout='nwucla'), joint_label=UCLA_J,
                    num_person=1).eval()
    x = torch.randn(2, 1, 52, 20, 3)
    with torch.no_grad():
        feat, taps = m(x, taps=('final', 'block5'))
    assert taps['final'].shape == (2, 1, 216, 13, 20)
    assert m.tap_info(52)['final'].num_frames == 13
    assert taps['block5'].shape == (2, 1, 216, 26, 20)
    assert torch.equal(taps['final'], feat)


def test_joint_label_and_input_errors():
    kw = dict(graph_cfg=dict(layout='nwucla'), num_person=1, num_heads=2,
              head_channels=6)
    with pytest.raises(ValueError, match='25 entries.*20 joints'):
        Hyperformer(joint_label=NTU_LABEL, **kw)
    with pytest.raises(ValueError, match='0 .. G-1'):
        Hyperformer(joint_label=[0] * 10 + [2] * 10, **kw)
    m = Hyperformer(joint_label=UCLA_J, **kw)
    with pytest.raises(ValueError, match='1 person'):
        m(torch.randn(1, 2, 8, 20, 3))
    disconnected = dict(num_node=3, inward=[(1, 0)], center=0)
    with pytest.raises(ValueError, match='connected'):
        Hyperformer(graph_cfg=dict(layout=disconnected), joint_label=[0] * 3,
                    num_person=1)


def test_released_init():
    torch.manual_seed(0)
    m = Hyperformer(graph_cfg=dict(layout='nwucla'), joint_label=UCLA_J,
                    num_person=1)
    blk = m.blocks[0]
    assert torch.equal(blk.attn.outer, torch.eye(20).expand(9, 20, 20))
    assert blk.attn.alpha.item() == 0 and not blk.attn.rpe.any()
    assert blk.attn.rpe.shape == (11, 216)  # max hop 10 on NW-UCLA
    bn_w = torch.cat([mod.weight for mod in blk.tcn.modules()
                      if isinstance(mod, nn.BatchNorm2d)])
    assert 0.005 < bn_w.std().item() < 0.04  # N(1, 0.02)
    assert torch.equal(blk.residual.bn.weight, torch.ones(216))
    conv = blk.residual.conv.weight  # Kaiming fan-out: std sqrt(2 / 216)
    assert abs(conv.std().item() / math.sqrt(2 / 216) - 1) < 0.1


def test_runner_training_cycle(tmp_path):
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    model = dict(
        type='RecognizerGCN',
        backbone=dict(type='Hyperformer', graph_cfg=dict(layout='coco'),
                      joint_label=[0] * 5 + [1] * 6 + [2] * 6, num_person=1,
                      num_heads=2, head_channels=6, num_stages=3,
                      down_stages=(2, )),
        cls_head=dict(type='GCNHead', num_classes=3, in_channels=12))
    work = str(tmp_path / 'work')
    runner = Runner.from_cfg(tiny_runner_cfg(ann, work, model, max_epochs=1))
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    assert osp.exists(osp.join(work, 'epoch_1.pth'))
    assert not torch.equal(before['backbone.blocks.0.attn.alpha'],
                           after['backbone.blocks.0.attn.alpha'])
    assert not torch.equal(before['backbone.blocks.2.attn.rpe'],
                           after['backbone.blocks.2.attn.rpe'])
    metrics = runner.test()
    assert 0.0 <= metrics['acc/top1'] <= 1.0


# ----------------------------------------------------------------- configs
REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
# released config/<bench>/*.yaml: classes, persons, lr, decay, wd, epochs,
# batch, joint_label of the joint streams and of the bone streams
RELEASED = {
    'ntu60_xsub': (60, 2, 0.025, 0.1, 4e-4, 140, 64, NTU_LABEL, NTU_LABEL),
    'ntu60_xview': (60, 2, 0.01, 0.025, 4e-4, 140, 64, NTU_LABEL,
                    NTU_LABEL),
    'ntu120_xsub': (120, 2, 0.025, 0.1, 4e-4, 140, 64, NTU_LABEL,
                    NTU_LABEL),
    'ntu120_xset': (120, 2, 0.025, 0.1, 4e-4, 140, 64, NTU_LABEL,
                    NTU_LABEL),
    'nwucla': (10, 1, 0.025, 0.1, 0., 150, 16, UCLA_J, UCLA_B),
}


@pytest.mark.parametrize('stream', ['j', 'b', 'jm', 'bm'])
@pytest.mark.parametrize('dataset', sorted(RELEASED))
def test_configs_follow_the_released_recipe(dataset, stream):
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', dataset, f'hyperformer_{stream}.py'))
    classes, persons, lr, gamma, wd, epochs, batch, lab_j, lab_b = \
        RELEASED[dataset]
    bb = cfg.model.backbone
    assert bb.type == 'Hyperformer' and bb.num_person == persons
    assert bb.joint_label == (lab_b if stream in ('b', 'bm') else lab_j)
    assert cfg.model.cls_head.num_classes == classes
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay, opt.momentum,
            opt.nesterov) == ('SGD', lr, wd, 0.9, True)
    assert cfg.train_cfg.max_epochs == epochs
    warm, step = cfg.param_scheduler
    assert (warm.type, warm.start_factor, warm.end) == ('LinearLR', 0.2, 5)
    assert (step.milestones, step.gamma) == ([110, 120], gamma)
    assert cfg.train_dataloader.batch_size == batch
    ds = cfg.train_dataloader.dataset
    assert ds.get('dataset', ds).stream == stream
    # the released feeders' per-frame centring on the layout's centre joint
    # (NTU joint 21, NW-UCLA joint 3), before the bone / motion conversion
    center = 2 if dataset == 'nwucla' else 20
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        ds = ds.get('dataset', ds)
        steps = [s for s in ds.pipeline if s.type == 'GenStreamFeat']
        assert len(steps) == 1 and steps[0].frame_center is True, loader
        built = TRANSFORMS.build(dict(steps[0], feats=(stream, )))
        assert built.center == center


@pytest.mark.parametrize('dataset', ['ntu60_xsub', 'nwucla'])
def test_config_models_build_and_run(dataset):
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', dataset, 'hyperformer_b.py'))
    model = MODELS.build(cfg.model).eval()
    classes, persons = RELEASED[dataset][:2]
    V = 25 if persons == 2 else 20
    with torch.no_grad():
        scores, _ = model.extract_feat(torch.randn(1, 1, persons, 8, V, 3),
                                       stage='head')
    assert scores.shape == (1, classes)
    assert sum(p.numel() for p in model.parameters()) == (
        2_729_194 if classes == 60 else 2_695_754)
