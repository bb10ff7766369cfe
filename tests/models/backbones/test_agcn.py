"""2s-AGCN: released parameter counts, converted released-format weights
give the released logits, released initialisation, a Runner cycle."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from mmskelcl.models.convert import convert_state_dict
from weight_helpers import randomise

# The released graphs (2s-AGCN graph/ntu_rgb_d.py, CTR-GCN graph/ucla.py),
# 1-based inward edges, written out here independently of
# mmskelcl.structures.layouts.
NTU_INWARD = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6),
              (8, 7), (9, 21), (10, 9), (11, 10), (12, 11), (13, 1),
              (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
              (20, 19), (22, 23), (23, 8), (24, 25), (25, 12)]
UCLA_INWARD = [(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7),
               (9, 3), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13),
               (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)]
# layout, released edges, joints, persons, classes, released parameters
CONFIGS = {
    'ntu60': ('nturgb+d_agcn', NTU_INWARD, 25, 2, 60, 3_469_510),
    'nwucla': ('nwucla', UCLA_INWARD, 20, 1, 10, 3_449_730),
}


def released_graph(inward_1b, num_node):
    """graph/tools.py get_spatial_graph: I, column-normalised in / out."""

    def mat(links):
        A = np.zeros((num_node, num_node))
        for i, j in links:
            A[j, i] = 1
        return A

    def norm(A):
        d = A.sum(0)
        return A @ np.diag([1 / x if x > 0 else 0 for x in d])

    inward = [(i - 1, j - 1) for i, j in inward_1b]
    outward = [(j, i) for i, j in inward]
    return np.stack([mat([(i, i) for i in range(num_node)]), norm(mat(inward)),
                     norm(mat(outward))]).astype(np.float32)


# --- released-format 2s-AGCN (model/agcn.py structure and names) ----------
class RelUnitGCN(nn.Module):

    def __init__(self, cin, cout, A, coff=4):
        super().__init__()
        self.inter_c = cout // coff
        self.A = torch.from_numpy(A)  # a plain attribute, as released
        self.PA = nn.Parameter(torch.full_like(self.A, 1e-6))
        self.conv_a = nn.ModuleList(nn.Conv2d(cin, self.inter_c, 1)
                                    for _ in range(3))
        self.conv_b = nn.ModuleList(nn.Conv2d(cin, self.inter_c, 1)
                                    for _ in range(3))
        self.conv_d = nn.ModuleList(nn.Conv2d(cin, cout, 1) for _ in range(3))
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1),
                                   nn.BatchNorm2d(cout))
                     if cin != cout else (lambda x: x))
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        N, C, T, V = x.size()
        A = self.A + self.PA
        y = None
        for i in range(3):
            A1 = self.conv_a[i](x).permute(0, 3, 1, 2).contiguous().view(
                N, V, self.inter_c * T)
            A2 = self.conv_b[i](x).view(N, self.inter_c * T, V)
            A1 = torch.softmax(torch.matmul(A1, A2) / A1.size(-1), -2) + A[i]
            z = self.conv_d[i](torch.matmul(x.view(N, C * T, V),
                                            A1).view(N, C, T, V))
            y = z + y if y is not None else z
        return torch.relu(self.bn(y) + self.down(x))


class RelUnitTCN(nn.Module):

    def __init__(self, cin, cout, kernel_size=9, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, (kernel_size, 1),
                              padding=((kernel_size - 1) // 2, 0),
                              stride=(stride, 1))
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class RelBlock(nn.Module):

    def __init__(self, cin, cout, A, stride=1, residual=True):
        super().__init__()
        self.gcn1 = RelUnitGCN(cin, cout, A)
        self.tcn1 = RelUnitTCN(cout, cout, stride=stride)
        if not residual:
            self.residual = lambda x: 0
        elif cin == cout and stride == 1:
            self.residual = lambda x: x
        else:
            self.residual = RelUnitTCN(cin, cout, kernel_size=1,
                                       stride=stride)

    def forward(self, x):
        return torch.relu(self.tcn1(self.gcn1(x)) + self.residual(x))


class RelAGCN(nn.Module):

    def __init__(self, num_class, num_point, num_person, A):
        super().__init__()
        self.data_bn = nn.BatchNorm1d(num_person * 3 * num_point)
        plan = [(3, 64, 1, False), (64, 64, 1, True), (64, 64, 1, True),
                (64, 64, 1, True), (64, 128, 2, True), (128, 128, 1, True),
                (128, 128, 1, True), (128, 256, 2, True),
                (256, 256, 1, True), (256, 256, 1, True)]
        for i, (cin, cout, s, r) in enumerate(plan, 1):
            setattr(self, f'l{i}', RelBlock(cin, cout, A, s, r))
        self.fc = nn.Linear(256, num_class)

    def forward(self, x):  # (N, C, T, V, M), as released
        N, C, T, V, M = x.size()
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).contiguous().view(
            N, M * V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(
            N * M, C, T, V)
        for i in range(1, 11):
            x = getattr(self, f'l{i}')(x)
        x = x.view(N, M, x.size(1), -1).mean(3).mean(1)
        return self.fc(x)


def build_ours(layout, num_person, num_classes):
    return MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type='AGCN', graph_cfg=dict(layout=layout),
                           num_person=num_person),
             cls_head=dict(type='GCNHead', num_classes=num_classes,
                           in_channels=256)))


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('bench', sorted(CONFIGS))
def test_parameter_count_equals_the_release(bench):
    layout, inward, V, M, K, expected = CONFIGS[bench]
    ours = build_ours(layout, M, K)
    ref = RelAGCN(K, V, M, released_graph(inward, V))
    assert n_params(ref) == expected
    assert n_params(ours) == expected


@pytest.mark.parametrize('bench', sorted(CONFIGS))
def test_converted_released_weights_give_the_released_logits(bench):
    layout, inward, V, M, K, _ = CONFIGS[bench]
    A = released_graph(inward, V)
    torch.manual_seed(0)
    ref = RelAGCN(K, V, M, A)
    randomise(ref)
    ref.eval()
    ours = build_ours(layout, M, K).eval()
    # the adjacency of the layout is the released one
    torch.testing.assert_close(ours.backbone.blocks[0].gcn.A,
                               torch.from_numpy(A))
    ours.load_state_dict(convert_state_dict('agcn', ref.state_dict()),
                         strict=True)
    x = torch.randn(2, 3, 20, V, M)
    with torch.no_grad():
        expected = ref(x)
        got = ours.cls_head(ours.backbone(x.permute(0, 4, 2, 3, 1)))
    assert expected.abs().max() > 0.05  # not a degenerate comparison
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_mmaction_ntu_graph_gives_other_logits():
    """The released hand edges matter: MMAction2's 'nturgb+d' graph joins
    tip and thumb to the hand, and a converted checkpoint then differs."""
    A = released_graph(NTU_INWARD, 25)
    ref = RelAGCN(60, 25, 2, A)
    randomise(ref)
    ref.eval()
    ours = build_ours('nturgb+d', 2, 60).eval()
    ours.load_state_dict(convert_state_dict('agcn', ref.state_dict()))
    x = torch.randn(2, 3, 20, 25, 2)
    with torch.no_grad():
        diff = (ours.cls_head(ours.backbone(x.permute(0, 4, 2, 3, 1))) -
                ref(x)).abs().max()
    assert diff > 1e-4


def test_converter_refuses_a_ctrgcn_checkpoint():
    sd = {'l1.gcn1.convs.0.conv1.weight': torch.zeros(8, 3, 1, 1)}
    with pytest.raises(KeyError, match='another architecture'):
        convert_state_dict('agcn', sd)


def test_released_initialisation():
    torch.manual_seed(0)
    m = MODELS.build(dict(type='AGCN', graph_cfg=dict(layout='nwucla'),
                          num_person=1))
    gcn = m.blocks[4].gcn  # 64 -> 128 channels
    assert torch.all(gcn.PA == 1e-6)
    assert torch.all(gcn.bn.weight == 1e-6)
    assert torch.all(m.blocks[4].tcn.bn.weight == 1)
    # conv_branch_init: std sqrt(2 / (C_out * C_in * 1 * 3))
    w = torch.cat([c.weight.flatten() for c in gcn.conv_d])
    assert abs(w.std().item() / math.sqrt(2 / (128 * 64 * 3)) - 1) < 0.05
    # kaiming fan-out of the 9x1 temporal conv: std sqrt(2 / (128 * 9))
    w = m.blocks[4].tcn.conv.weight
    assert abs(w.std().item() / math.sqrt(2 / (128 * 9)) - 1) < 0.05
    assert torch.all(m.blocks[4].tcn.conv.bias == 0)


def test_runner_trains_a_tiny_agcn(tmp_path):
    from mmengine.runner import Runner
    from tiny_run import tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    model = dict(
        type='RecognizerGCN',
        backbone=dict(type='AGCN', graph_cfg=dict(layout='coco'),
                      num_person=1, base_channels=8, num_stages=2,
                      inflate_stages=(2, ), down_stages=(2, )),
        cls_head=dict(type='GCNHead', num_classes=3, in_channels=16))
    runner = Runner.from_cfg(
        tiny_runner_cfg(ann, str(tmp_path / 'work'), model))
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    for key in ('backbone.blocks.1.gcn.PA', 'backbone.blocks.1.gcn.conv_a.0'
                '.weight', 'backbone.blocks.1.tcn.conv.weight',
                'cls_head.fc.weight'):
        assert key in changed, key
    metrics = runner.test()
    assert 0 <= metrics['acc/top1'] <= 1


# --- shipped configs -------------------------------------------------------
DATASETS = {  # classes, layout, persons, joints, epochs, steps, wd, batch, T
    'ntu60_xsub': (60, 'nturgb+d_agcn', 2, 25, 50, [30, 40], 1e-4, 64, 300),
    'ntu60_xview': (60, 'nturgb+d_agcn', 2, 25, 50, [30, 40], 1e-4, 64, 300),
    'ntu120_xsub': (120, 'nturgb+d_agcn', 2, 25, 50, [30, 40], 1e-4, 64,
                    300),
    'ntu120_xset': (120, 'nturgb+d_agcn', 2, 25, 50, [30, 40], 1e-4, 64,
                    300),
    'nwucla': (10, 'nwucla', 1, 20, 65, [50], 1e-4, 16, 52),
}


def run_config(path, persons, joints, frames, forward=True):
    """Parse a shipped config, run its train pipeline on a synthetic clip
    of ``frames`` valid frames and (optionally) its model on the result."""
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cfg = Config.fromfile(path)
    ds = cfg.train_dataloader.dataset
    ds = ds.get('dataset', ds)
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(persons, frames, joints, 3)).astype(np.float32)
    sample = dict(keypoint=kp, total_frames=frames, frame_dir='s0',
                  label=1, sample_idx=0, start_index=0)
    packed = Compose(ds.pipeline)(sample)
    model = None
    if forward:
        model = MODELS.build(cfg.model).eval()
        with torch.no_grad():
            scores, _ = model.extract_feat(packed['inputs'][None],
                                           stage='head')
        packed['scores'] = scores
    return cfg, ds, packed


@pytest.mark.parametrize('dataset', sorted(DATASETS))
def test_shipped_configs(dataset):
    import os.path as osp
    K, layout, M, V, epochs, steps, wd, batch, T = DATASETS[dataset]
    root = osp.join(osp.dirname(__file__), '../../../configs', dataset)
    for stream in ('j', 'b', 'jm', 'bm'):
        cfg, ds, packed = run_config(osp.join(root, f'agcn_{stream}.py'), M,
                                     V, 40, forward=stream == 'j')
        assert ds.stream == stream
        assert cfg.val_dataloader.dataset.stream == stream
        assert cfg.model.backbone.type == 'AGCN'
        assert cfg.model.backbone.graph_cfg.layout == layout
        assert cfg.model.cls_head.num_classes == K
        assert cfg.train_cfg.max_epochs == epochs
        multistep = [s for s in cfg.param_scheduler
                     if s.type == 'MultiStepLR']
        assert multistep[0].milestones == steps
        assert cfg.optim_wrapper.optimizer.weight_decay == wd
        assert cfg.optim_wrapper.optimizer.nesterov
        assert cfg.train_dataloader.batch_size == batch
        assert packed['inputs'].shape == (1, M, T, V, 3)
        if stream == 'j':
            assert packed['scores'].shape == (1, K)
    # released: no warm-up on NTU, CTR-GCN's 5 epochs on NW-UCLA
    warm = [s for s in cfg.param_scheduler if s.type == 'LinearLR']
    assert len(warm) == (dataset == 'nwucla')
