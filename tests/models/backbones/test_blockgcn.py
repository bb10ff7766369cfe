"""BlockGCN: parameter counts, layout-derived constants, the persistence
encoding, and equality with a released-format model (``l1..l10``,
``t0..t9``, ``topo.pl``; ``ZhouYuxuanYX/BlockGCN`` ``model/BlockGCN.py``)
through ``tools/convert_weights.py --arch blockgcn``."""
import math
import os.path as osp
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from scipy.sparse.csgraph import minimum_spanning_tree

from mmskelcl.models.backbones.blockgcn import (hop_distances,
                                                mst_edge_lengths)
from mmskelcl.models.convert import convert_state_dict
from mmskelcl.structures.layouts import build_graph

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(__file__))))


def recognizer(layout, num_person, num_classes, **kw):
    return MODELS.build(dict(
        type='RecognizerGCN',
        backbone=dict(type='BlockGCN', num_person=num_person,
                      graph_cfg=dict(layout=layout, mode='spatial'), **kw),
        cls_head=dict(type='GCNHead', num_classes=num_classes,
                      in_channels=256)))


# --------------------------------------------------------------------------
# A released-format BlockGCN, written from the release's module structure
# (names and tensor shapes as in model/BlockGCN.py), with the persistence
# diagram from scipy's minimum spanning tree.


class RefTemporalConv(nn.Module):
    def __init__(self, cin, cout, k, stride=1, dilation=1):
        super().__init__()
        pad = (k + (k - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(cin, cout, (k, 1), (stride, 1), (pad, 0),
                              (dilation, 1))
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class RefMSTCN(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        b = c // 4
        self.branches = nn.ModuleList([
            nn.Sequential(nn.Conv2d(c, b, 1), nn.BatchNorm2d(b), nn.ReLU(),
                          RefTemporalConv(b, b, 5, stride, d)) for d in (1, 2)
        ])
        self.branches.append(nn.Sequential(
            nn.Conv2d(c, b, 1), nn.BatchNorm2d(b), nn.ReLU(),
            nn.MaxPool2d((3, 1), (stride, 1), (1, 0)), nn.BatchNorm2d(b)))
        self.branches.append(nn.Sequential(
            nn.Conv2d(c, b, 1, stride=(stride, 1)), nn.BatchNorm2d(b)))

    def forward(self, x):
        return torch.cat([br(x) for br in self.branches], 1)


def released_hops(A):
    """The release's k-hop loop (binarised reachability differences)."""
    h1 = A.sum(0)
    h1[h1 != 0] = 1
    V = A.shape[-1]
    h = [np.eye(V), h1] + [None] * (V - 2)
    hops = 0 * h[0]
    for i in range(2, V):
        h[i] = h[i - 1] @ h1.T
        h[i][h[i] != 0] = 1
    for i in range(V - 1, 0, -1):
        if np.any(h[i] - h[i - 1]):
            h[i] = h[i] - h[i - 1]
            hops += i * h[i]
    return torch.tensor(hops).long()


class RefUnitGCN(nn.Module):
    def __init__(self, cin, cout, A):
        super().__init__()
        self.num_heads = 8 if cin > 8 else 1
        V = A.shape[-1]
        self.fc1 = nn.Parameter(torch.eye(V).expand(3, self.num_heads, V,
                                                    V).clone())
        self.fc2 = nn.ModuleList(
            nn.Conv2d(cin, cout, 1, groups=self.num_heads) for _ in range(3))
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1),
                                   nn.BatchNorm2d(cout))
                     if cin != cout else (lambda x: x))
        self.bn = nn.BatchNorm2d(cout)
        self.hops = released_hops(A.copy())
        self.rpe = nn.Parameter(torch.zeros(3, self.num_heads,
                                            int(self.hops.max()) + 1))

    def forward(self, x):
        N, C, T, V = x.shape
        pos = self.rpe[:, :, self.hops]
        y = 0
        for i in range(3):
            w = self.fc1[i] / (self.fc1[i].norm(dim=-2, keepdim=True) + 1e-4)
            w = w + pos[i] / (pos[i].norm(dim=-2, keepdim=True) + 1e-4)
            xi = x.view(N, self.num_heads, C // self.num_heads, T, V)
            z = torch.einsum('nhctv,hvw->nhctw', xi, w).reshape(N, -1, T, V)
            y = y + self.fc2[i](z)
        return torch.relu(self.bn(y) + self.down(x))


class RefUnit(nn.Module):  # TCN_GCN_unit
    def __init__(self, cin, cout, A, stride=1):
        super().__init__()
        self.gcn1 = RefUnitGCN(cin, cout, A)
        self.tcn1 = RefMSTCN(cout, stride)
        if cin == cout and stride == 1:
            self.residual = lambda x: x
        else:
            self.residual = RefTemporalConv(cin, cout, 1, stride)

    def forward(self, x):
        return torch.relu(self.tcn1(self.gcn1(x)) + self.residual(x))


class RefStructureElements(nn.Module):  # torch_topological's layer
    def __init__(self, n):
        super().__init__()
        self.centres = nn.Parameter(torch.rand(n, 2))
        self.sharpness = nn.Parameter(torch.ones(n, 2) * 3)

    def forward(self, diagrams):
        """diagrams: (B, L, 3) rows (birth, death, dim), NaN padding."""
        c = self.centres[None, :, None]  # (1, E, 1, 2)
        s = self.sharpness.pow(2)[None, :, None]
        d = diagrams[:, None]  # (B, 1, L, 3)
        dim = (2 * d[..., 2:] - d[..., 2:])**2  # centre 2*dim, weight 1
        terms = torch.cat([s * (c - d[..., :2])**2,
                           dim.expand(-1, c.shape[1], -1, -1)], -1)
        return torch.exp(-torch.nansum(terms, -1)).sum(-1).squeeze()


class RefTopo(nn.Module):
    def __init__(self):
        super().__init__()
        self.pl = RefStructureElements(64)

    def forward(self, x):  # (N, M, C, T, V)
        x = x.mean(1)
        x = (x.unsqueeze(-1) - x.unsqueeze(-2)).mean(-3).norm(dim=1)
        x = (x - x.min()) / (x.max() - x.min())
        diagrams = []
        for cloud in x.detach().double().numpy():
            dist = np.linalg.norm(cloud[:, None] - cloud[None], axis=-1)
            deaths = minimum_spanning_tree(dist).data
            diagrams.append(np.stack([0 * deaths, deaths, 0 * deaths], 1))
        L = max(len(d) for d in diagrams)
        pad = [np.concatenate([np.full((L - len(d), 3), np.nan), d])
               for d in diagrams]
        return self.pl(torch.tensor(np.stack(pad), dtype=torch.float32))


class RefTopoTrans(nn.Module):
    def __init__(self, out_dim, num_person):
        super().__init__()
        self.mlp = nn.Linear(64, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.num_person = num_person

    def forward(self, x):
        x = x.repeat(2, 1) if self.num_person == 2 else x  # release
        return torch.relu(self.bn(self.mlp(x)))[..., None, None]


class RefBlockGCN(nn.Module):
    def __init__(self, num_class, num_point, num_person, A, in_channels=3):
        super().__init__()
        self.data_bn = nn.BatchNorm1d(num_person * 128 * num_point)
        self.to_joint_embedding = nn.Linear(in_channels, 128)
        self.pos_embedding = nn.Parameter(torch.randn(1, num_point, 128))
        chans = [(128, 128, 1)] * 4 + [(128, 256, 2), (256, 256, 1),
                                       (256, 256, 1), (256, 256, 2),
                                       (256, 256, 1), (256, 256, 1)]
        for i, (cin, cout, s) in enumerate(chans):
            setattr(self, f'l{i + 1}', RefUnit(cin, cout, A, s))
            setattr(self, f't{i}', RefTopoTrans(cin, num_person))
        self.topo = RefTopo()
        self.fc = nn.Linear(256, num_class)

    def forward(self, x, joint):  # (N, C, T, V, M) as released
        N, C, T, V, M = x.shape
        a = self.topo(joint.permute(0, 4, 1, 2, 3))
        x = x.permute(0, 4, 2, 3, 1).reshape(N * M * T, V, C)
        x = self.to_joint_embedding(x) + self.pos_embedding
        x = x.view(N, M, T, V, 128).permute(0, 1, 3, 4, 2).reshape(N, -1, T)
        x = self.data_bn(x).view(N, M, V, 128, T).permute(0, 1, 3, 4, 2)
        x = x.reshape(N * M, 128, T, V)
        for i in range(10):
            x = getattr(self, f'l{i + 1}')(x + getattr(self, f't{i}')(a))
        x = x.view(N, M, x.shape[1], -1).mean(3).mean(1)
        return self.fc(x)


def randomise(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def released(layout, num_person, num_classes):
    A = np.asarray(build_graph(dict(layout=layout, mode='spatial')).A)
    torch.manual_seed(0)
    return RefBlockGCN(num_classes, A.shape[-1], num_person, A)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


# --------------------------------------------------------------------------


@pytest.mark.parametrize('layout,num_person,num_classes,expected', [
    ('nturgb+d', 2, 60, 1_372_780),  # released Model, NTU RGB+D 60
    ('nwucla', 1, 10, 1_297_370),    # released Model, NW-UCLA
])
def test_released_parameter_count(layout, num_person, num_classes, expected):
    assert n_params(released(layout, num_person, num_classes)) == expected
    assert n_params(recognizer(layout, num_person, num_classes)) == expected


@pytest.mark.parametrize('layout', ['nturgb+d', 'nwucla'])
def test_hops_are_the_layouts_shortest_paths(layout):
    g = build_graph(dict(layout=layout, mode='spatial', max_hop=30))
    hops = hop_distances(np.asarray(g.A).sum(0))
    assert np.array_equal(hops, g.hop_dis)  # MMAction2's own hop distances
    assert torch.equal(torch.from_numpy(hops),
                       released_hops(np.asarray(g.A).copy()))
    # diameter: 11 on NTU (hand tip to foot), 10 on NW-UCLA
    assert hops.max() == {'nturgb+d': 11, 'nwucla': 10}[layout]


def test_hops_by_hand_on_a_path_with_an_isolated_joint():
    adj = np.zeros((4, 4))
    adj[0, 1] = adj[1, 0] = adj[1, 2] = adj[2, 1] = 1
    assert hop_distances(adj).tolist() == [[0, 1, 2, 0], [1, 0, 1, 0],
                                           [2, 1, 0, 0], [0, 0, 0, 0]]


def test_mst_edges_by_hand_and_against_scipy():
    # points on a line at 0, 1, 3, 7: MST edges 1, 2, 4
    pts = torch.tensor([[[0.], [3.], [1.], [7.]]])
    assert sorted(mst_edge_lengths(pts)[0].tolist()) == [1., 2., 4.]
    rng = np.random.default_rng(0)
    clouds = rng.normal(size=(5, 20, 20))
    ours = mst_edge_lengths(torch.tensor(clouds)).sort(dim=1).values
    for c, o in zip(clouds, ours):
        d = np.linalg.norm(c[:, None] - c[None], axis=-1)
        np.testing.assert_allclose(
            np.sort(minimum_spanning_tree(d).data), o.numpy(), rtol=1e-10)


@pytest.mark.parametrize('layout,M,N', [('nturgb+d', 2, 3), ('nwucla', 1, 4)])
def test_converted_release_gives_the_same_logits(layout, M, N):
    """Batch-coupled mode = the release exactly (batch min-max, encodings
    tiled over persons), joints given as extra channels (bone stream)."""
    V, classes = (25, 60) if layout == 'nturgb+d' else (20, 10)
    ref = randomise(released(layout, M, classes))
    ours = recognizer(layout, M, classes, topo_channels=3,
                      released_batch_coupling=True).eval()
    ours.load_state_dict(convert_state_dict('blockgcn', ref.state_dict()))
    torch.manual_seed(1)
    joint = torch.randn(N, M, 12, V, 3)
    bone = torch.randn(N, M, 12, V, 3)
    with torch.no_grad():
        expected = ref(bone.permute(0, 4, 2, 3, 1),
                       joint.permute(0, 4, 2, 3, 1))
        got = ours.cls_head(ours.backbone(torch.cat([bone, joint], -1)))
    scale = expected.abs().max().item()
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5 * scale)
    assert expected.std() > 0.1  # not a trivially constant output


def test_default_mode_is_per_sample_and_equals_release_for_one_clip():
    ref = randomise(released('nturgb+d', 2, 60))
    ours = recognizer('nturgb+d', 2, 60).eval()  # joint stream, per sample
    ours.load_state_dict(convert_state_dict('blockgcn', ref.state_dict()))
    torch.manual_seed(2)
    x = torch.randn(3, 2, 12, 25, 3)
    with torch.no_grad():
        alone = ours.cls_head(ours.backbone(x[:1]))
        ref_alone = ref(x[:1].permute(0, 4, 2, 3, 1),
                        x[:1].permute(0, 4, 2, 3, 1))
        in_batch = ours.cls_head(ours.backbone(x))[:1]
    scale = ref_alone.abs().max().item()
    torch.testing.assert_close(alone, ref_alone, rtol=1e-4, atol=1e-5 * scale)
    # a clip's logits do not depend on its batch-mates (eval mode)
    torch.testing.assert_close(in_batch, alone, rtol=1e-4, atol=1e-5 * scale)


def test_persistence_encoding_is_translation_and_order_invariant():
    model = recognizer('nwucla', 1, 10).backbone.eval()
    torch.manual_seed(3)
    x = torch.randn(2, 1, 8, 20, 3)
    enc = model.stem.topo(x)
    shifted = x + torch.randn(1, 1, 8, 1, 3)  # per-frame translation
    torch.testing.assert_close(model.stem.topo(shifted), enc)
    assert enc.shape == (2, 64) and (enc > 0).all()
    # a diagram does not depend on the joint order; another pose differs
    torch.testing.assert_close(model.stem.topo(x.flip(3)), enc)
    assert not torch.allclose(model.stem.topo(x * torch.tensor([1, 2, 1])),
                              enc)


def test_missing_joint_channels_are_refused_with_the_fix():
    model = recognizer('nwucla', 1, 10, topo_channels=3).backbone
    with pytest.raises(ValueError, match=r"stream=\(STREAM, 'j'\)"):
        model(torch.randn(1, 1, 8, 20, 3))


def test_official_init():
    bb = recognizer('nturgb+d', 2, 60).backbone
    blk = bb.blocks[0]
    assert torch.equal(blk.gcn.fc1[1, 3], torch.eye(25))
    assert not blk.gcn.rpe.any()
    assert (blk.gcn.bn.weight == 1e-6).all()
    assert torch.equal(bb.stem.topo.sharpness, torch.full((64, 2), 3.))
    tcn_bn = blk.tcn.branches[0][1].weight
    assert 0 < tcn_bn.std() < 0.05 and abs(tcn_bn.mean() - 1) < 0.02
    assert math.isclose(bb.stem.data_bn.weight.mean().item(), 1.0)


# --------------------------------------------------------------------------
# Shipped configs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DATASETS = {  # classes, layout, persons, batch, clip_len
    'ntu60_xsub': (60, 'nturgb+d', 2, 64, 64),
    'ntu60_xview': (60, 'nturgb+d', 2, 64, 64),
    'ntu120_xsub': (120, 'nturgb+d', 2, 64, 64),
    'ntu120_xset': (120, 'nturgb+d', 2, 64, 64),
    'nwucla': (10, 'nwucla', 1, 16, 52),
}


@pytest.mark.parametrize('dataset,stream', [(d, 'bm') for d in sorted(
    DATASETS)] + [('nwucla', 'j'), ('ntu60_xsub', 'j')])
def test_configs_feed_stream_plus_joints_and_train_as_released(dataset,
                                                               stream):
    from mmengine.config import Config
    from mmengine.dataset import Compose
    import mmskelcl  # noqa: F401
    classes, layout, persons, batch, clip_len = DATASETS[dataset]
    cfg = Config.fromfile(osp.join(REPO, 'configs', dataset,
                                   f'blockgcn_{stream}.py'))
    ds = cfg.test_dataloader.dataset
    # the joint stream encodes its own input; the others append the joints
    channels = 3 if stream == 'j' else 6
    assert cfg.model.backbone.topo_channels == channels - 3
    assert ds.stream == 'j' if stream == 'j' else tuple(ds.stream) == (
        stream, 'j')
    assert cfg.train_dataloader.batch_size == batch
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay, opt.nesterov) == (0.05, 4e-4, True)
    assert cfg.train_cfg.max_epochs == 140
    assert cfg.param_scheduler[1].milestones == [110, 120]
    # the released NTU feeder centres every frame on joint 21 (joint 21
    # keeps its trajectory) before the stream conversion; its NW-UCLA
    # feeder does not
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        lds = cfg[loader].dataset
        lds = lds.get('dataset', lds)
        steps = [t for t in lds.pipeline if t.type == 'GenStreamFeat']
        assert len(steps) == 1, loader
        assert steps[0].get('frame_center', False) is (
            layout == 'nturgb+d'), loader
    # the test pipeline of the config gives stream + joint channels
    from mmskelcl.datasets.skeleton_dataset import apply_stream
    pipe = Compose(apply_stream(ds.pipeline, ds.stream))
    V = 25 if layout == 'nturgb+d' else 20
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(persons, 80, V, 3)).astype(np.float32)
    out = pipe(dict(keypoint=kp, total_frames=80, frame_dir='x', label=0,
                    sample_idx=0, start_index=0, modality='Pose',
                    img_shape=(1, 1), original_shape=(1, 1)))
    inputs = out['inputs']
    assert inputs.shape[-1] == channels and inputs.shape[-2] == V
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        scores, _ = model.extract_feat(inputs[None].float(), stage='head')
    assert scores.shape == (1, classes)
    assert model.backbone.num_person == persons
    if stream != 'j':  # the joint channels are not the stream's
        assert not torch.allclose(inputs[..., 3:], inputs[..., :3])


def test_runner_trains_a_tiny_blockgcn(tmp_path):
    from mmengine.runner import Runner
    from tiny_run import tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    model = dict(
        type='RecognizerGCN',
        backbone=dict(type='BlockGCN', graph_cfg=dict(layout='coco'),
                      num_person=1, base_channels=16, num_stages=2,
                      inflate_stages=(), down_stages=(2, ), n_elements=8,
                      topo_channels=3),
        cls_head=dict(type='GCNHead', num_classes=3, in_channels=16))
    cfg = tiny_runner_cfg(ann, str(tmp_path / 'work'), model, max_epochs=2,
                          stream=('b', 'j'))
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any('stem.topo.centres' in k for k in changed)
    assert any('blocks.1.gcn.rpe' in k for k in changed)
    metrics = runner.test()
    assert 0 <= metrics['acc/top1'] <= 1
