"""HCN: released parameter counts, converted released-format weights give
the released logits, the CSRE taps, the released init, a Runner cycle."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from mmskelcl.models.convert import convert_state_dict


# --- released-format HCN (model/HCN.py structure and names) ---------------
class RelHCN(nn.Module):

    def __init__(self, in_channel=3, num_joint=25, num_person=2,
                 out_channel=64, window_size=64, num_class=60):
        super().__init__()
        self.num_person = num_person
        c, w = out_channel, window_size
        for s in ('', 'm'):
            setattr(self, f'conv1{s}', nn.Sequential(
                nn.Conv2d(in_channel, c, 1), nn.ReLU()))
            setattr(self, f'conv2{s}', nn.Conv2d(c, w, (3, 1),
                                                 padding=(1, 0)))
            setattr(self, f'conv3{s}', nn.Sequential(
                nn.Conv2d(num_joint, c // 2, 3, padding=1), nn.MaxPool2d(2)))
            setattr(self, f'conv4{s}', nn.Sequential(
                nn.Conv2d(c // 2, c, 3, padding=1), nn.Dropout2d(0.5),
                nn.MaxPool2d(2)))
        self.conv5 = nn.Sequential(nn.Conv2d(2 * c, 2 * c, 3, padding=1),
                                   nn.ReLU(), nn.Dropout2d(0.5),
                                   nn.MaxPool2d(2))
        self.conv6 = nn.Sequential(nn.Conv2d(2 * c, 4 * c, 3, padding=1),
                                   nn.ReLU(), nn.Dropout2d(0.5),
                                   nn.MaxPool2d(2))
        self.fc7 = nn.Sequential(
            nn.Linear(4 * c * (w // 16) * (w // 16), 512), nn.ReLU(),
            nn.Dropout(0.5))
        self.fc8 = nn.Linear(512, num_class)

    def stream(self, x, s):
        out = getattr(self, f'conv2{s}')(getattr(self, f'conv1{s}')(x))
        out = out.permute(0, 3, 2, 1).contiguous()
        return getattr(self, f'conv4{s}')(getattr(self, f'conv3{s}')(out))

    def forward(self, x):  # (N, C, T, V, M), as released
        N, C, T, V, M = x.size()
        motion = x[:, :, 1:] - x[:, :, :-1]
        motion = motion.permute(0, 1, 4, 2, 3).contiguous().view(
            N, C * M, T - 1, V)
        motion = F.interpolate(motion, size=(T, V), mode='bilinear',
                               align_corners=False).contiguous().view(
                                   N, C, M, T, V).permute(0, 1, 3, 4, 2)
        feats = []
        for i in range(self.num_person):
            out = torch.cat((self.stream(x[..., i], ''),
                             self.stream(motion[..., i], 'm')), dim=1)
            feats.append(self.conv6(self.conv5(out)))
        out = feats[0]
        for f in feats[1:]:
            out = torch.max(out, f)
        return self.fc8(self.fc7(out.view(out.size(0), -1)))


# window, layout, joints, persons, classes, released parameters
CONFIGS = {
    'ntu60': (32, 'nturgb+d', 25, 2, 60, 1_062_652),  # the released runs
    'ntu60_w64': (64, 'nturgb+d', 25, 2, 60, 2_647_868),  # HCN02
    'nwucla': (32, 'nwucla', 20, 1, 10, 1_034_122),
}


def build_ours(window, layout, persons, classes):
    return MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type='HCN', graph_cfg=dict(layout=layout),
                           num_person=persons, conv2_channels=window),
             cls_head=dict(type='HCNHead', num_classes=classes,
                           in_channels=256 * (window // 16)**2)))


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('bench', sorted(CONFIGS))
def test_parameter_count_equals_the_release(bench):
    w, layout, V, M, K, expected = CONFIGS[bench]
    assert n_params(RelHCN(num_joint=V, num_person=M, window_size=w,
                           num_class=K)) == expected
    assert n_params(build_ours(w, layout, M, K)) == expected


@pytest.mark.parametrize('bench,persons', [('ntu60', 2), ('nwucla', 1)])
def test_converted_released_weights_give_the_released_logits(bench, persons):
    w, layout, V, _, K, _ = CONFIGS[bench]
    torch.manual_seed(0)
    ref = RelHCN(num_joint=V, num_person=persons, window_size=w,
                 num_class=K).eval()
    ours = build_ours(w, layout, persons, K).eval()
    ours.load_state_dict(convert_state_dict('hcn', ref.state_dict()),
                         strict=True)
    x = torch.randn(3, 3, w, V, persons)
    with torch.no_grad():
        expected = ref(x)
        got = ours.cls_head(ours.backbone(x.permute(0, 4, 2, 3, 1)))
    assert expected.abs().max() > 0.05
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_taps_are_the_maps_csre_can_read():
    """'final' is conv6 of every person (option A, what the head fuses);
    'conv2' keeps true joints (option B)."""
    torch.manual_seed(0)
    m = build_ours(32, 'nturgb+d', 2, 60).eval()
    x = torch.randn(2, 2, 32, 25, 3)
    feats, taps = m.backbone(x, taps=('conv2', 'conv2m', 'final'))
    assert taps['final'] is feats and feats.shape == (2, 2, 256, 2, 2)
    assert taps['conv2'].shape == (2, 2, 32, 32, 25)
    # conv2 of the joint stream: by hand from conv1 / conv2, person 1
    b = m.backbone
    xi = x[:, 1].permute(0, 3, 1, 2)  # (N, C, T, V)
    by_hand = b.conv2['joint'](F.relu(b.conv1['joint'](xi)))
    torch.testing.assert_close(taps['conv2'][:, 1], by_hand)
    # the motion stream reads frame differences: a static clip gives the
    # motion stream's conv2 bias-only maps
    static = x[:, :, :1].expand(-1, -1, 32, -1, -1).contiguous()
    _, t = m.backbone(static, taps=('conv2m', ))
    bias_only = b.conv2['motion'](F.relu(b.conv1['motion'](
        torch.zeros(2, 3, 32, 25))))
    torch.testing.assert_close(t['conv2m'][:, 0], bias_only)
    # the head takes the max over persons: swapping persons changes nothing
    swapped = m.cls_head(m.backbone(x.flip(1)))
    torch.testing.assert_close(swapped, m.cls_head(feats))


def test_head_and_backbone_refuse_mismatched_inputs():
    m = build_ours(32, 'nturgb+d', 2, 60)
    with pytest.raises(ValueError, match='16 frames'):
        m.backbone(torch.randn(1, 2, 8, 25, 3))
    head = MODELS.build(dict(type='HCNHead', num_classes=5, in_channels=999))
    with pytest.raises(ValueError, match='in_channels'):
        head(torch.randn(1, 2, 256, 2, 2))


def test_converter_refuses_other_keys():
    with pytest.raises(KeyError, match='another architecture'):
        convert_state_dict('hcn', {'l1.gcn1.PA': torch.zeros(1)})


def test_released_initialisation():
    torch.manual_seed(0)
    m = build_ours(32, 'nturgb+d', 2, 60)
    m.init_weights()
    w = m.backbone.conv6.weight  # 256 x 128 x 3 x 3, xavier uniform
    bound = (6 / (128 * 9 + 256 * 9))**0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    assert torch.all(m.backbone.conv6.bias == 0)
    w = m.cls_head.fc7.weight  # 512 x 1024
    bound = (6 / (1024 + 512))**0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    assert torch.all(m.cls_head.fc.bias == 0)


def test_runner_trains_a_tiny_hcn(tmp_path):
    from mmengine.runner import Runner
    from tiny_run import tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann, T=16)
    model = dict(
        type='RecognizerGCN',
        backbone=dict(type='HCN', graph_cfg=dict(layout='coco'),
                      num_person=1, base_channels=8, conv2_channels=16),
        cls_head=dict(type='HCNHead', num_classes=3, in_channels=32,
                      hidden_channels=16))
    runner = Runner.from_cfg(
        tiny_runner_cfg(ann, str(tmp_path / 'work'), model, clip_len=16))
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    for key in ('backbone.conv1.joint.weight', 'backbone.conv3.motion.weight',
                'backbone.conv6.weight', 'cls_head.fc7.weight',
                'cls_head.fc.weight'):
        assert key in changed, key
    metrics = runner.test()
    assert 0 <= metrics['acc/top1'] <= 1


# --- shipped configs -------------------------------------------------------
DATASETS = {  # classes, layout, persons, joints, batch, clip norm
    'ntu60_xsub': (60, 'nturgb+d', 2, 25, 64, 32.),
    'ntu60_xview': (60, 'nturgb+d', 2, 25, 64, 32.),
    'ntu120_xsub': (120, 'nturgb+d', 2, 25, 64, 32.),
    'ntu120_xset': (120, 'nturgb+d', 2, 25, 64, 32.),
    'nwucla': (10, 'nwucla', 1, 20, 16, 8.),
}


@pytest.mark.parametrize('dataset', sorted(DATASETS))
def test_shipped_configs(dataset):
    import os.path as osp
    from test_agcn import run_config
    K, layout, M, V, batch, clip = DATASETS[dataset]
    root = osp.join(osp.dirname(__file__), '../../../configs', dataset)
    for stream in ('j', 'b', 'jm', 'bm'):
        cfg, ds, packed = run_config(osp.join(root, f'hcn_{stream}.py'), M,
                                     V, 80, forward=True)
        assert ds.stream == stream
        assert cfg.model.backbone.graph_cfg.layout == layout
        assert cfg.model.backbone.conv2_channels == 32
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        # 1e-3 x 0.99: HCN-pytorch steps its ExponentialLR before the first
        # epoch (tests/configs/test_schedules.py checks every epoch)
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(9.9e-4)
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
        assert cfg.optim_wrapper.clip_grad.max_norm == clip
        # NW-UCLA: HCN's 400 passes as 80 epochs of 5 repeated passes
        passes = 5 if dataset == 'nwucla' else 1
        assert cfg.param_scheduler == [
            dict(type='ExponentialLR', gamma=0.99**passes, by_epoch=True)]
        assert cfg.train_cfg.max_epochs * passes == 400
        assert cfg.train_dataloader.batch_size == batch
        assert packed['inputs'].shape == (1, M, 32, V, 3)
        assert packed['scores'].shape == (1, K)
    if dataset == 'nwucla':
        assert cfg.train_dataloader.dataset.times == 5
