"""The encoder table of tools/benchmark.py --encoder-table: FLOPs of every
tapped encoder against torch's own counter, and one interleaved run of
tiny configs (CTR-GCN's ratios are 1, HCN is rebuilt for the window)."""
import os.path as osp
import sys

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode

import mmskelcl  # noqa: F401
from mmskelcl.utils.benchmark.encoders import (DATASETS, _Logits,
                                               benchmark_encoders, clip_flops,
                                               markdown_table)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from tests.analysis.test_onnx_export import (TINY,  # noqa: E402
                                             _encoder_model)

#: mmengine operator names of multiply-adds (norms / pooling: no torch
#: counterpart) and torch's
MACS = ('conv', 'linear', 'einsum', 'matmul', 'bmm', 'addmm', 'mm')


@pytest.mark.parametrize('name', sorted(TINY))
def test_flops_agree_with_torch_flop_counter(name):
    """mmengine's multiply-adds of the whole clip model (both persons,
    backbone and classifier) equal torch's FlopCounterMode / 2."""
    init_default_scope('mmaction')
    cfg, (_, m, t, v, c) = _encoder_model(name)
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    total, by_op, skipped = clip_flops(model, (m, t, v, c))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        _Logits(model)(torch.randn(1, 1, m, t, v, c))
    reference = counter.get_total_flops() / 2
    macs = sum(n for op, n in by_op.items() if op in MACS)
    assert macs == pytest.approx(reference, rel=1e-3)
    assert total >= macs and 'aten::_convolution' not in skipped


def _tiny_configs(root):
    """configs/nwucla/{ctrgcn,hcn}_j.py of tiny models."""
    pipe = [dict(type='UniformSampleFrames', clip_len=32),
            dict(type='PoseDecode'), dict(type='FormatGCNInput',
                                          num_person=1),
            dict(type='PackActionInputs')]
    models = dict(
        ctrgcn=dict(type='RecognizerGCN', backbone=dict(
            type='CTRGCN', graph_cfg=dict(layout='nwucla'), num_person=1,
            base_channels=8, num_stages=2, inflate_stages=(),
            down_stages=()), cls_head=dict(type='GCNHead', num_classes=10,
                                           in_channels=8)),
        hcn=dict(type='RecognizerGCN', backbone=dict(
            type='HCN', graph_cfg=dict(layout='nwucla'), num_person=1,
            base_channels=8, conv2_channels=32),
            cls_head=dict(type='HCNHead', num_classes=10,
                          in_channels=32 * 2 * 2, hidden_channels=16)))
    folder = root / DATASETS['nwucla'][0]
    folder.mkdir()
    for name, model in models.items():
        Config(dict(default_scope='mmaction', model=model,
                    train_dataloader=dict(batch_size=2, dataset=dict(
                        type='PoseDataset', ann_file='x.pkl',
                        pipeline=pipe)),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))
                    )).dump(str(folder / f'{name}_j.py'))


def test_tiny_encoder_table(tmp_path):
    _tiny_configs(tmp_path)
    res = benchmark_encoders('nwucla', ('ctrgcn', 'hcn'), batch_size=2,
                             iters=2, warmup=0, root=str(tmp_path))
    assert res['shape'] == [1, 52, 20, 3] and res['batch_size'] == 2
    ctr, hcn, hcn32 = res['rows']
    assert [r['encoder'] for r in res['rows']] == ['ctrgcn', 'hcn', 'hcn@32']
    assert ctr['train_step_ratio'] == ctr['infer_throughput_ratio'] == 1.0
    assert hcn['train_step_ratio'] == pytest.approx(
        hcn['train_step_ms'] / ctr['train_step_ms'])
    # HCN on 52 frames: conv2 52 wide, head 4 * 8 * (52 // 16)^2 = 288;
    # only conv2 (8 -> 52 / 32 channels, 3x1) and fc7 change
    assert hcn32['input_shape'] == [1, 32, 20, 3]
    conv2 = 2 * (8 * 3 + 1)  # per output channel, joint + motion streams
    assert hcn['params'] - hcn32['params'] == (52 - 32) * conv2 + (
        288 - 128) * 16
    assert hcn['gflops'] > hcn32['gflops'] > 0
    table = markdown_table(res)
    assert '| hcn@32 (T=32) |' in table and '| ctrgcn |' in table
