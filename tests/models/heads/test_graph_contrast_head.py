"""The graph-contrast gradient through AuxRecognizerGCN with the real
GraphContrastHead: it reaches the backbone (the topology tap is a function
of the last block's CTR-GC convolutions and of every block before it), not
the classifier; with ``proj_trainable=False`` (released SkeletonGCL) an
optimizer step moves the backbone but leaves the projection as initialised.

Models are built through the registry from config dicts; banks and
projection parameters are found by type and by name, not by attribute.
"""
import copy

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper

from mmskelcl.models.memory import MemoryBank

FRAMES, JOINTS, CLASSES, BATCH = 8, 17, 3, 6


@pytest.fixture(autouse=True)
def _epoch0():
    MessageHub.get_current_instance().update_info('epoch', 0)
    yield


def _model(**head):
    cfg = dict(
        type='AuxRecognizerGCN',
        backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                      num_person=1, base_channels=8, num_stages=2,
                      inflate_stages=(), down_stages=()),
        cls_head=dict(type='GCNHead', num_classes=CLASSES, in_channels=8),
        aux_heads=dict(graph=dict(type='GraphContrastHead',
                                  in_dim=3 * JOINTS * JOINTS,
                                  num_classes=CLASSES, **head)))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    banks = [m for m in model.modules() if isinstance(m, MemoryBank)]
    assert len(banks) == 1
    banks[0].resize(2 * BATCH)  # what MemoryBankHook does before training
    return model


def _batch():
    g = torch.Generator().manual_seed(1)
    inputs = [torch.randn(1, 1, FRAMES, JOINTS, 3, generator=g)
              for _ in range(BATCH)]
    samples = []
    for i in range(BATCH):
        ds = ActionDataSample().set_gt_label(i % CLASSES)
        ds.set_metainfo(dict(sample_idx=i, frame_dir=f'v{i}'))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def _contrast_loss(model):
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    aux = [v for k, v in losses.items()
           if k.startswith('loss') and k != 'loss_cls']
    assert len(aux) == 1
    return aux[0]


def _proj_params(model):
    named = {k: p for k, p in model.named_parameters()
             if k.startswith('aux_heads.') and 'proj' in k}
    assert named, 'no projection parameter found'
    return named


@pytest.mark.parametrize('proj_trainable', [True, False])
def test_contrast_gradient_reaches_the_backbone(proj_trainable):
    model = _model(proj_trainable=proj_trainable)
    loss = _contrast_loss(model)
    assert float(loss.detach()) > 0
    loss.backward()
    grads = {k: p.grad for k, p in model.named_parameters()}
    # every block of the backbone, down to the first one
    for prefix in ('backbone.blocks.0.', 'backbone.blocks.1.gcn.'):
        got = [g for k, g in grads.items()
               if k.startswith(prefix) and g is not None]
        assert got and any(g.abs().sum() > 0 for g in got), prefix
    # the classifier is not part of the contrast loss
    assert all(g is None or torch.all(g == 0)
               for k, g in grads.items() if k.startswith('cls_head.'))
    for k, p in _proj_params(model).items():
        if proj_trainable:
            assert p.grad is not None and p.grad.abs().sum() > 0, k
        else:
            assert p.grad is None and not p.requires_grad, k


def test_frozen_projection_stays_while_the_backbone_trains():
    """Released SkeletonGCL: the projection is outside the optimizer (here
    frozen), the backbone still learns from the contrast loss."""
    optim = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                weight_decay=1e-4, nesterov=True))
    states = {}
    for trainable in (False, True):
        model = _model(proj_trainable=trainable)
        before = copy.deepcopy(dict(model.named_parameters()))
        wrapper = build_optim_wrapper(model, copy.deepcopy(optim))
        model.train_step(_batch(), wrapper)
        after = dict(model.named_parameters())
        states[trainable] = (before, after)
        proj = _proj_params(model)
        moved = {k for k in proj if not torch.equal(after[k], before[k])}
        if trainable:
            assert moved == set(proj)
        else:
            assert not moved
        backbone = [k for k in after if k.startswith('backbone.blocks.')]
        assert any(not torch.equal(after[k], before[k]) for k in backbone)

    # same initial weights; the backbone update with a frozen projection
    # includes the contrast term: it differs from a classification-only
    # step (loss weight 0)
    model = _model(proj_trainable=False, loss=dict(loss_weight=0.))
    wrapper = build_optim_wrapper(model, copy.deepcopy(optim))
    model.train_step(_batch(), wrapper)
    cls_only = dict(model.named_parameters())
    before, frozen = states[False]
    for k in before:
        assert torch.equal(before[k], states[True][0][k]), k
    first = [k for k in frozen if k.startswith('backbone.blocks.0.')]
    assert any(not torch.allclose(frozen[k], cls_only[k]) for k in first)
