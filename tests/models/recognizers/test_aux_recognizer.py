import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

from mmskelcl.models.heads import BaseAuxHead


@MODELS.register_module(name='_TestTopologyHead', force=True)
class _TestTopologyHead(BaseAuxHead):
    """Test-only head: a loss from the topology and block1 taps."""

    needs_sample_idx = True

    def __init__(self, **kwargs):
        super().__init__(required_taps=('topology', 'block1'), **kwargs)
        self.proj = torch.nn.Linear(3 * 17 * 17, 4)
        self.register_buffer('seen', torch.zeros(16, dtype=torch.long))
        self.calls = []

    def loss(self, taps, logits, labels, sample_idx, **kwargs):
        self.calls.append((set(taps), labels.clone(), sample_idx.clone()))
        self.seen[sample_idx] += 1
        z = self.proj(taps['topology'].flatten(1))
        return dict(loss_aux=z.pow(2).mean() + 0 * taps['block1'].sum())


def _batch(n=4, t=8):
    inputs = [torch.randn(1, 1, t, 17, 3) for _ in range(n)]
    samples = []
    for i in range(n):
        ds = ActionDataSample().set_gt_label(i % 3)
        ds.set_metainfo(dict(sample_idx=10 + i, frame_dir=f'v{i}'))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def _model(aux=True):
    return MODELS.build(
        dict(type='AuxRecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                           num_person=1, base_channels=8, num_stages=3,
                           inflate_stages=(), down_stages=()),
             cls_head=dict(type='GCNHead', num_classes=3, in_channels=8),
             aux_heads=dict(topo=dict(
                 type='_TestTopologyHead')) if aux else {}))


def test_train_step_logs_both_losses_and_passes_inputs():
    torch.manual_seed(0)
    model = _model()
    before = model.aux_heads['topo'].proj.weight.detach().clone()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log = model.train_step(_batch(), wrapper)
    assert {'loss', 'loss_cls', 'loss_aux'} <= set(log)
    head = model.aux_heads['topo']
    taps, labels, idx = head.calls[-1]
    assert taps == {'topology', 'block1'}
    assert labels.tolist() == [0, 1, 2, 0]
    assert idx.tolist() == [10, 11, 12, 13]
    assert not torch.equal(head.proj.weight, before)  # the aux loss trains
    assert head.seen[10:14].tolist() == [1, 1, 1, 1]


def test_inference_skips_aux_heads_and_matches_plain_recognizer():
    torch.manual_seed(0)
    model = _model().eval()
    plain = MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                           num_person=1, base_channels=8, num_stages=3,
                           inflate_stages=(), down_stages=()),
             cls_head=dict(type='GCNHead', num_classes=3,
                           in_channels=8))).eval()
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing and all(k.startswith('aux_heads.')
                               for k in unexpected)
    batch = _batch()
    out = model.test_step(batch)
    ref = plain.test_step(batch)
    assert not model.aux_heads['topo'].calls  # no aux head at inference
    for a, b in zip(out, ref):
        torch.testing.assert_close(a.pred_score, b.pred_score)


def test_missing_sample_idx_is_a_clear_error():
    model = _model()
    batch = _batch()
    for ds in batch['data_samples']:
        ds.set_metainfo(dict(sample_idx=None))
    data = model.data_preprocessor(batch, True)
    with pytest.raises(KeyError, match='sample_idx'):
        model.loss(**data)


def test_backbone_without_taps_is_rejected():
    with pytest.raises(TypeError, match='does not provide taps'):
        MODELS.build(
            dict(type='AuxRecognizerGCN',
                 backbone=dict(type='STGCN',
                               graph_cfg=dict(layout='coco',
                                              mode='stgcn_spatial')),
                 cls_head=dict(type='GCNHead', num_classes=3,
                               in_channels=256),
                 aux_heads=[dict(type='_TestTopologyHead')]))
