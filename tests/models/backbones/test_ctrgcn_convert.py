"""Released CTR-GCN / FR-Head checkpoints -> CTRGCN: a released-format
model built here (model/ctrgcn.py structure and names), converted, gives
the same logits; FR-Head's training-only modules are dropped."""
import os.path as osp
import sys

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from mmskelcl.models.convert import convert_state_dict
from weight_helpers import randomise


# --- released-format CTR-GCN ----------------------------------------------
class RelCTRGC(nn.Module):

    def __init__(self, cin, cout):
        super().__init__()
        rel = 8 if cin in (3, 9) else cin // 8
        self.conv1 = nn.Conv2d(cin, rel, 1)
        self.conv2 = nn.Conv2d(cin, rel, 1)
        self.conv3 = nn.Conv2d(cin, cout, 1)
        self.conv4 = nn.Conv2d(rel, cout, 1)

    def forward(self, x, A, alpha):
        x1, x2 = self.conv1(x).mean(-2), self.conv2(x).mean(-2)
        x1 = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))
        x1 = self.conv4(x1) * alpha + A[None, None]
        return torch.einsum('ncuv,nctv->nctu', x1, self.conv3(x))


class RelUnitGCN(nn.Module):

    def __init__(self, cin, cout, A):
        super().__init__()
        self.convs = nn.ModuleList(RelCTRGC(cin, cout) for _ in range(3))
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1),
                                   nn.BatchNorm2d(cout))
                     if cin != cout else (lambda x: x))
        self.PA = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = sum(conv(x, self.PA[i], self.alpha)
                for i, conv in enumerate(self.convs))
        return torch.relu(self.bn(y) + self.down(x))


class RelTemporalConv(nn.Module):

    def __init__(self, cin, cout, k, stride=1, dilation=1):
        super().__init__()
        pad = (k + (k - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(cin, cout, (k, 1), padding=(pad, 0),
                              stride=(stride, 1), dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class RelMSTCN(nn.Module):

    def __init__(self, c, stride):
        super().__init__()
        b = c // 4
        self.branches = nn.ModuleList([
            nn.Sequential(nn.Conv2d(c, b, 1), nn.BatchNorm2d(b), nn.ReLU(),
                          RelTemporalConv(b, b, 5, stride, d)) for d in (1, 2)
        ])
        self.branches.append(nn.Sequential(
            nn.Conv2d(c, b, 1), nn.BatchNorm2d(b), nn.ReLU(),
            nn.MaxPool2d((3, 1), (stride, 1), (1, 0)), nn.BatchNorm2d(b)))
        self.branches.append(nn.Sequential(
            nn.Conv2d(c, b, 1, stride=(stride, 1)), nn.BatchNorm2d(b)))

    def forward(self, x):  # residual=False in TCN_GCN_unit
        return torch.cat([br(x) for br in self.branches], 1)


class RelBlock(nn.Module):

    def __init__(self, cin, cout, A, stride=1, residual=True):
        super().__init__()
        self.gcn1 = RelUnitGCN(cin, cout, A)
        self.tcn1 = RelMSTCN(cout, stride)
        if not residual:
            self.residual = lambda x: 0
        elif cin == cout and stride == 1:
            self.residual = lambda x: x
        else:
            self.residual = RelTemporalConv(cin, cout, 1, stride)

    def forward(self, x):
        return torch.relu(self.tcn1(self.gcn1(x)) + self.residual(x))


class RelCTRGCN(nn.Module):

    def __init__(self, num_class, num_point, num_person, frhead=False):
        super().__init__()
        A = torch.rand(3, num_point, num_point)
        self.data_bn = nn.BatchNorm1d(num_person * 3 * num_point)
        plan = [(3, 64, 1, False), (64, 64, 1, True), (64, 64, 1, True),
                (64, 64, 1, True), (64, 128, 2, True), (128, 128, 1, True),
                (128, 128, 1, True), (128, 256, 2, True),
                (256, 256, 1, True), (256, 256, 1, True)]
        for i, (cin, cout, s, r) in enumerate(plan, 1):
            setattr(self, f'l{i}', RelBlock(cin, cout, A, s, r))
        self.fc = nn.Linear(256, num_class)
        if frhead:  # stand-ins for FR-Head's ST_RenovateNet modules
            for name, c in (('ren_low', 64), ('ren_mid', 128),
                            ('ren_high', 256), ('ren_fin', 256)):
                ren = nn.Module()
                ren.spatio_squeeze = nn.Sequential(nn.Conv2d(c, 16, 1),
                                                   nn.BatchNorm2d(16))
                ren.register_buffer('avg_f', torch.randn(num_class, 16))
                setattr(self, name, ren)

    def forward(self, x):  # (N, C, T, V, M)
        N, C, T, V, M = x.size()
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).contiguous().view(
            N, M * V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(
            N * M, C, T, V)
        for i in range(1, 11):
            x = getattr(self, f'l{i}')(x)
        return self.fc(x.view(N, M, x.size(1), -1).mean(3).mean(1))


def build_ours(layout, persons, classes):
    return MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout=layout),
                           num_person=persons),
             cls_head=dict(type='GCNHead', num_classes=classes,
                           in_channels=256))).eval()


CASES = [('ctrgcn', 'nturgb+d', 25, 2, 60), ('ctrgcn', 'nwucla', 20, 1, 10),
         ('frhead', 'nturgb+d', 25, 2, 60)]


@pytest.mark.parametrize('arch,layout,V,M,K', CASES)
def test_converted_released_weights_give_the_released_logits(
        arch, layout, V, M, K):
    torch.manual_seed(0)
    ref = RelCTRGCN(K, V, M, frhead=arch == 'frhead')
    randomise(ref)
    ref.eval()
    # the released parameter count (FR-Head's modules aside)
    n_ref = sum(p.numel() for n, p in ref.named_parameters()
                if not n.startswith('ren_'))
    assert n_ref == {60: 1_446_672, 10: 1_426_892}[K]
    ours = build_ours(layout, M, K)
    converted = convert_state_dict(arch, ref.state_dict())
    assert not any('ren_' in k for k in converted)
    ours.load_state_dict(converted, strict=True)
    x = torch.randn(2, 3, 16, V, M)
    with torch.no_grad():
        expected = ref(x)
        got = ours.cls_head(ours.backbone(x.permute(0, 4, 2, 3, 1)))
    assert expected.abs().max() > 0.05
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_ctrgcn_refuses_frhead_and_agcn_keys():
    ref = RelCTRGCN(60, 25, 2, frhead=True)
    with pytest.raises(KeyError, match='ren_'):
        convert_state_dict('ctrgcn', ref.state_dict())
    with pytest.raises(KeyError, match='another architecture'):
        convert_state_dict('ctrgcn',
                           {'l1.gcn1.conv_a.0.weight': torch.zeros(1)})


def test_convert_weights_tool_end_to_end(tmp_path):
    """A DataParallel checkpoint under 'state_dict' -> a file the project
    loads (strict)."""
    sys.path.insert(0, osp.join(osp.dirname(__file__), '../../../tools'))
    try:
        from convert_weights import main
    finally:
        sys.path.pop(0)
    ref = RelCTRGCN(10, 20, 1)
    randomise(ref)
    src, dst = tmp_path / 'runs-65.pt', tmp_path / 'ctrgcn_j.pth'
    torch.save({'state_dict': {f'module.{k}': v
                               for k, v in ref.state_dict().items()}}, src)
    assert main(['--arch', 'ctrgcn', str(src), str(dst)]) == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['arch'] == 'ctrgcn'
    ours = build_ours('nwucla', 1, 10)
    ours.load_state_dict(ckpt['state_dict'], strict=True)
    torch.testing.assert_close(ours.backbone.blocks[9].gcn.PA, ref.l10.gcn1.PA)
    assert main(['--arch', 'ctrgcn', str(src), str(dst)]) == 1  # no clobber
