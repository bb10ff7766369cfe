"""FRHead in AuxRecognizerGCN: parameter counts of the released code, sizes
from the configured frames and joints (NW-UCLA's 52 frames), per-stage
losses, start epoch, and inference equal to the plain recognizer."""
import copy

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmskelcl.models.heads import FRHead
from mmskelcl.models.losses import CFRLoss

from frhead_helpers import TINY_FRAMES, tiny_model


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _batch(n=6, t=TINY_FRAMES, v=17, m=1, num_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(1, m, t, v, 3, generator=g) for _ in range(n)]
    samples = []
    for i in range(n):
        ds = ActionDataSample().set_gt_label(i % num_classes)
        ds.set_metainfo(dict(sample_idx=i, frame_dir=f'v{i}'))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture(autouse=True)
def _epoch0():
    MessageHub.get_current_instance().update_info('epoch', 0)
    yield
    MessageHub.get_current_instance().update_info('epoch', 0)


def ntu_taps(num_frames=64):
    """CTR-GCN's published taps on NTU for ``num_frames`` input frames."""
    return MODELS.build(dict(type='CTRGCN', graph_cfg=dict(
        layout='nturgb+d'))).tap_info(num_frames)


def test_ntu_head_adds_exactly_the_released_parameters():
    """NTU (25 joints, 64 frames), taps of CTR-GCN blocks 1, 5, 8, 10:
    channels 64/128/256/256, T 64/32/16/16 (official code: 536,956)."""
    head = FRHead(num_classes=120, tap_info=ntu_taps())
    assert _count(head) == 536_956
    per_stage = {k: _count(v) for k, v in head.stages.items()}
    assert per_stage == dict(block1=130_986, block5=132_406, block8=136_782,
                             block10=136_782)
    assert [s.num_frames for s in head.stages.values()] == [64, 32, 16, 16]
    # the prototypes are buffers, not parameters (8 banks of 120 x 256)
    protos = [b for n, b in head.named_buffers() if n.endswith('prototypes')]
    assert len(protos) == 8 and all(p.shape == (120, 256) for p in protos)
    # with CTR-GCN (K = 120): 1,462,092 + 536,956 = 1,999,048 (Table 3)
    model = MODELS.build(
        dict(type='AuxRecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d')),
             cls_head=dict(type='GCNHead', num_classes=120, in_channels=256),
             num_frames=64,  # the recognizer sizes the head: no sizes here
             aux_heads=dict(fr=dict(type='FRHead'))))
    assert _count(model) == 1_999_048
    assert _count(model) - _count(model.aux_heads) == 1_462_092


@pytest.mark.parametrize('kwargs,expected', [
    (dict(taps=('block10', )), 136_782),  # Table 1 "+ST Decouple"
    (dict(decouple=False), 152_256),  # "+ML Refine" (C_h = stage channels)
    (dict(decouple=False, taps=('block10', )), 65_792),  # "+CL Loss"
])
def test_table1_variants_parameter_counts(kwargs, expected):
    head = FRHead(num_classes=120, tap_info=ntu_taps(), **kwargs)
    assert _count(head) == expected


def test_nwucla_52_frames_builds_and_trains():
    """52 -> 26 -> 13 frames; the squeeze widths follow (released code with
    a hard-coded 64 breaks here)."""
    model = MODELS.build(
        dict(type='AuxRecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout='nwucla'),
                           num_person=1),
             cls_head=dict(type='GCNHead', num_classes=10, in_channels=256),
             num_frames=52,
             aux_heads=dict(fr=dict(type='FRHead'))))
    head = model.aux_heads['fr']
    sizes = {
        tap: (s.num_frames, s.cfr['spatial'].cl_fc.in_features,
              s.cfr['temporal'].cl_fc.in_features)
        for tap, s in head.stages.items()
    }
    assert sizes == dict(block1=(52, 240, 208), block5=(26, 240, 234),
                         block8=(13, 240, 247), block10=(13, 240, 247))
    torch.manual_seed(0)
    batch = _batch(n=2, t=52, v=20, num_classes=10)
    log = model.train_step(batch, OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01)))
    assert all(torch.isfinite(log[f'loss_cfr_{t}']) for t in head.stages)


def test_train_step_logs_one_weighted_loss_per_stage():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model())
    head = model.aux_heads['fr']
    batch = _batch()
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    feats, taps = model.backbone(data['inputs'][:, 0], taps=model.aux_taps)
    logits = model.cls_head(feats)
    labels = torch.tensor([i % 3 for i in range(6)])
    ref = copy.deepcopy(head)
    losses = head.loss(taps, logits=logits, labels=labels)
    assert set(losses) == {'loss_cfr_block1', 'loss_cfr_block3'}
    for tap, lam in (('block1', 0.1), ('block3', 1.0)):
        direct = ref.stages[tap](taps[tap], logits, labels)
        torch.testing.assert_close(losses[f'loss_cfr_{tap}'],
                                   0.1 * lam * direct)
    # through train_step: the total is loss_cls + the stage losses, and the
    # head's gradient reaches the backbone
    log = model.train_step(batch, OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01)))
    assert {'loss', 'loss_cls', 'loss_cfr_block1',
            'loss_cfr_block3'} <= set(log)
    torch.testing.assert_close(
        log['loss'], log['loss_cls'] + log['loss_cfr_block1'] +
        log['loss_cfr_block3'])

    def backbone_grad(loss_weight):
        torch.manual_seed(0)
        m = MODELS.build(tiny_model(loss_weight=loss_weight))
        data = m.data_preprocessor(copy.deepcopy(batch), True)
        losses = m(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        return torch.cat([p.grad.flatten()
                          for p in m.backbone.blocks[0].parameters()
                          if p.grad is not None])

    assert not torch.allclose(backbone_grad(0.1), backbone_grad(0.))


def test_logits_are_detached_for_the_head():
    torch.manual_seed(0)
    head = MODELS.build(tiny_model()['aux_heads']['fr'])
    taps = dict(block1=torch.randn(4, 1, 8, TINY_FRAMES, 17),
                block3=torch.randn(4, 1, 16, TINY_FRAMES // 2, 17))
    logits = torch.randn(4, 3, requires_grad=True)
    losses = head.loss(taps, logits=logits, labels=torch.tensor([0, 1, 2,
                                                                  0]))
    sum(losses.values()).backward()
    assert logits.grad is None


def test_start_epoch_skips_the_head_entirely():
    torch.manual_seed(0)  # the switch; released: test_frhead_start_epoch.py
    model = MODELS.build(tiny_model(start_epoch=1, update_before_start=False))
    head = model.aux_heads['fr']
    before = copy.deepcopy(head.state_dict())
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.))
    log = model.train_step(_batch(), wrapper)
    assert float(log['loss_cfr_block1'].detach()) == 0
    assert float(log['loss_cfr_block3'].detach()) == 0
    for k, v in head.state_dict().items():  # no prototype / BN update
        assert torch.equal(v, before[k]), k
    MessageHub.get_current_instance().update_info('epoch', 1)
    log = model.train_step(_batch(), wrapper)
    assert float(log['loss_cfr_block3'].detach()) > 0
    changed = [k for k, v in head.state_dict().items()
               if not torch.equal(v, before[k])]
    assert any(k.endswith('running_mean') for k in changed)


def test_wrong_frame_count_raises_with_a_hint():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model())
    batch = _batch(t=2 * TINY_FRAMES)
    with pytest.raises(ValueError, match='num_frames'):
        model.train_step(batch, OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.01)))


def test_head_built_without_tap_info_or_sizes_says_how_to_fix():
    with pytest.raises(ValueError, match='AuxRecognizerGCN'):
        FRHead(num_classes=3, num_frames=8, num_joints=17)
    # stage overrides alone are enough
    head = FRHead(num_classes=3, num_frames=8, num_joints=17,
                  stages=dict(block1=dict(in_channels=8, temporal_stride=2,
                                          weight=1.0)))
    assert head.stages['block1'].num_frames == 4


def test_recognizer_without_clip_length_says_how_to_fix():
    with pytest.raises(ValueError, match='num_frames'):
        MODELS.build(
            dict(type='AuxRecognizerGCN',
                 backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                               num_person=1),
                 cls_head=dict(type='GCNHead', num_classes=3,
                               in_channels=256),
                 aux_heads=dict(fr=dict(type='FRHead'))))


def test_unknown_tap_and_incomplete_stage_are_rejected():
    with pytest.raises(ValueError, match='subset'):
        FRHead(num_classes=3, num_frames=8, num_joints=17, taps=('block2', ))
    with pytest.raises(ValueError, match='weight'):
        FRHead(num_classes=3, num_frames=8, num_joints=17,
               stages=dict(block1=dict(in_channels=8, temporal_stride=1)))


def test_cfr_options_reach_every_cfr_module():
    head = FRHead(num_classes=3, tap_info=ntu_taps(8), decouple='temporal',
                  cfr=dict(version='V0', temperature=0.2, alpha=0.3,
                           momentum=0.7, pred_threshold=0.4, use_fn=False))
    cfrs = [m for m in head.modules() if isinstance(m, CFRLoss)]
    assert len(cfrs) == 4  # one branch x four stages
    for m in cfrs:
        assert (m.version, m.temperature, m.alpha, m.momentum,
                m.pred_threshold, m.use_fn, m.use_fp) == ('V0', 0.2, 0.3,
                                                          0.7, 0.4, False,
                                                          True)


def test_inference_equals_plain_recognizer_with_same_weights():
    torch.manual_seed(0)
    aux = MODELS.build(tiny_model())
    # train a step so that the head's state is not the initial one
    aux.train_step(_batch(), OptimWrapper(
        torch.optim.SGD(aux.parameters(), lr=0.05)))
    aux.eval()
    plain = MODELS.build(tiny_model(aux=False)).eval()
    missing, unexpected = plain.load_state_dict(aux.state_dict(),
                                                strict=False)
    assert not missing
    assert unexpected and all(k.startswith('aux_heads.fr.')
                              for k in unexpected)
    head_state = copy.deepcopy(aux.aux_heads.state_dict())
    batch = _batch(n=4, seed=1)
    with torch.no_grad():
        out_aux = aux.test_step(copy.deepcopy(batch))
        out_plain = plain.test_step(copy.deepcopy(batch))
    for a, b in zip(out_aux, out_plain):
        assert torch.equal(a.pred_score, b.pred_score)
    for k, v in aux.aux_heads.state_dict().items():  # the head never ran
        assert torch.equal(v, head_state[k]), k


def test_registered_names_are_ours_and_new():
    import mmaction.models
    for name in ('FRHead', 'CFRLoss', 'STGCNTaps', 'AAGCNTaps'):
        cls = MODELS.get(name)
        assert cls.__module__.startswith('mmskelcl.'), name
        assert not hasattr(mmaction.models, name), name
        assert name not in MODELS.parent.module_dict, name


def test_stage_order_follows_the_backbone_not_the_config():
    """mmengine's config dump sorts keys (block1, block10, block5, block8):
    the head must draw the same initial weights from either order."""
    natural = dict(block1=dict(weight=0.1), block5=dict(weight=0.2),
                   block8=dict(weight=0.5), block10=dict(weight=1.0))
    dumped = dict(sorted(natural.items()))
    assert list(dumped) != list(natural)
    heads = []
    for stages in (natural, dumped):
        torch.manual_seed(0)
        heads.append(FRHead(num_classes=5, tap_info=ntu_taps(16),
                            stages=stages))
    a, b = heads
    assert list(a.stages) == list(b.stages) == list(natural)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
