"""The widened auxiliary-head contract: final features and data samples
reach the heads, sample indices only when a head needs them, and the
backbone's tap table and class count are handed over at build time."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmskelcl.models.heads import BaseAuxHead

BACKBONE = dict(type='CTRGCN', graph_cfg=dict(layout='coco'), num_person=1,
                base_channels=8, num_stages=3, inflate_stages=(3, ),
                down_stages=(3, ))


@MODELS.register_module(name='_FeatsHead', force=True)
class _FeatsHead(BaseAuxHead):
    """Records what it is given; a loss on the final features."""

    def __init__(self, tap_info=None, num_classes=None):
        super().__init__(required_taps=('block1', ), tap_info=tap_info)
        self.num_classes = num_classes
        self.got = {}

    def loss(self, taps, logits, labels, sample_idx, **kwargs):
        self.got = dict(kwargs, sample_idx=sample_idx)
        return dict(loss_feat=kwargs['feats'].square().mean())


def _batch(with_idx, n=4, t=8):
    inputs = [torch.randn(1, 1, t, 17, 3) for _ in range(n)]
    samples = []
    for i in range(n):
        ds = ActionDataSample().set_gt_label(i % 3)
        meta = dict(frame_dir=f'v{i}')
        if with_idx:
            meta['sample_idx'] = i
        ds.set_metainfo(meta)
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def _model(**heads):
    return MODELS.build(
        dict(type='AuxRecognizerGCN', backbone=BACKBONE, num_frames=8,
             cls_head=dict(type='GCNHead', num_classes=3, in_channels=16),
             aux_heads=heads))


def test_head_gets_tap_table_class_count_features_and_samples():
    model = _model(f=dict(type='_FeatsHead'))
    head = model.aux_heads['f']
    assert head.num_classes == 3
    assert head.tap_info['block3'].num_frames == 4  # 8 frames, stride 2
    assert head.tap_info['block3'].channels == 16
    batch = _batch(with_idx=False)
    log = model.train_step(batch, OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log['loss_feat'])
    assert head.got['sample_idx'] is None  # nobody needs it: not read
    assert tuple(head.got['feats'].shape) == (4, 1, 16, 4, 17)
    assert [d.frame_dir for d in head.got['data_samples']] == [
        f'v{i}' for i in range(4)]


def test_frhead_trains_without_sample_idx_in_meta_keys():
    MessageHub.get_current_instance().update_info('epoch', 0)
    model = _model(fr=dict(type='FRHead', stages=dict(
        block1=dict(weight=0.1), block3=dict(weight=1.0)),
        hidden_channels=32))
    assert not model.aux_heads['fr'].needs_sample_idx
    log = model.train_step(_batch(with_idx=False), OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log['loss_cfr_block3'])


def test_index_bank_needs_sample_idx_and_says_so():
    model = _model(graph=dict(type='GraphContrastHead', bank=dict(size=8)))
    assert model.aux_heads['graph'].needs_sample_idx
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(KeyError, match='sample_idx'):
        model.train_step(_batch(with_idx=False), wrapper)
    model.train_step(_batch(with_idx=True), wrapper)
    # a FIFO bank does not
    fifo = _model(graph=dict(type='GraphContrastHead',
                             bank=dict(size=8, mode='fifo')))
    assert not fifo.aux_heads['graph'].needs_sample_idx
    fifo.train_step(_batch(with_idx=False), wrapper)
