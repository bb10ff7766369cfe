"""FR-Head's ``start_epoch``: released behaviour (heads run every step, the
prototypes and the stage BNs update, only the loss waits) and the switch
``update_before_start=False`` (nothing runs before ``start_epoch``).

Released ``main.py``: ``output, cl_loss = self.model(..., get_cl_loss=True)``
on every step, then ``if epoch > self.arg.start_cl_epoch: full_loss +=
w_cl_loss * cl_loss.mean()``.
"""
import copy

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmskelcl.models.losses import CFRLoss

from frhead_helpers import TINY_FRAMES, tiny_head, tiny_model


@pytest.fixture(autouse=True)
def _epoch0():
    MessageHub.get_current_instance().update_info('epoch', 0)
    yield
    MessageHub.get_current_instance().update_info('epoch', 0)


def _set_epoch(epoch):
    MessageHub.get_current_instance().update_info('epoch', epoch)


def _batch(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(1, 1, TINY_FRAMES, 17, 3, generator=g)
              for _ in range(n)]
    samples = []
    for i in range(n):
        ds = ActionDataSample().set_gt_label(i % 3)
        ds.set_metainfo(dict(sample_idx=i, frame_dir=f'v{i}'))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def _head_inputs(seed=0):
    """Taps of the tiny stages, labels, and logits that classify samples
    0-3 correctly (TPs of classes 0, 1, 2) and 4, 5 wrongly."""
    g = torch.Generator().manual_seed(seed)
    taps = dict(block1=torch.randn(6, 1, 8, TINY_FRAMES, 17, generator=g),
                block3=torch.randn(6, 1, 16, TINY_FRAMES // 2, 17,
                                   generator=g))
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    pred = torch.tensor([0, 1, 2, 0, 2, 0])
    logits = torch.nn.functional.one_hot(pred, 3).float() * 4
    return taps, logits, labels


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_cfr_inactive_step_updates_prototypes_as_an_active_one():
    torch.manual_seed(0)
    active = CFRLoss(in_channels=5, num_classes=3, hidden_channels=4)
    inactive = copy.deepcopy(active)
    x = torch.randn(6, 5, requires_grad=True)
    _, logits, labels = _head_inputs()
    loss = active(x, logits, labels)
    x2 = x.detach().clone().requires_grad_(True)
    zero = inactive(x2, logits, labels, active=False)
    assert float(loss.detach()) > 0 and float(zero.detach()) == 0
    # classes 0, 1, 2 had TPs: all three prototypes moved, identically
    assert inactive.proto_updates.tolist() == [1., 1., 1.]
    torch.testing.assert_close(inactive.prototypes, active.prototypes,
                               rtol=0, atol=0)
    torch.testing.assert_close(inactive.proto_updates, active.proto_updates)
    # zero gradient, but a gradient (DDP sees cl_fc used)
    zero.backward()
    assert inactive.cl_fc.weight.grad is not None
    assert torch.all(inactive.cl_fc.weight.grad == 0)
    assert torch.all(x2.grad == 0)


def test_released_default_head_updates_state_before_start_epoch():
    """Before start_epoch the released head runs (prototype EMA, stage BN
    statistics) exactly as an active head would; its losses are zero."""
    torch.manual_seed(0)
    waiting = MODELS.build(tiny_head(start_epoch=2))
    assert waiting.update_before_start is True  # the released default
    running = copy.deepcopy(waiting)
    running.start_epoch = 0
    taps, logits, labels = _head_inputs()
    before = _state(waiting)
    _set_epoch(1)
    zero = waiting.loss(taps, logits=logits, labels=labels)
    full = running.loss(taps, logits=logits, labels=labels)
    assert set(zero) == set(full) == {'loss_cfr_block1', 'loss_cfr_block3'}
    assert all(float(v) == 0 for v in zero.values())
    assert all(float(v) > 0 for v in full.values())
    after, ref = _state(waiting), _state(running)
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert any(k.endswith('prototypes') for k in changed)
    assert any(k.endswith('proto_updates') for k in changed)
    assert any(k.endswith('running_mean') for k in changed)
    for k in after:  # the same update as the active head
        assert torch.equal(after[k], ref[k]), k
    # zero gradients reach every head parameter
    sum(zero.values()).backward()
    grads = [p.grad for p in waiting.parameters()]
    assert all(g is not None and torch.all(g == 0) for g in grads)
    _set_epoch(2)
    assert all(float(v) > 0 for v in waiting.loss(
        taps, logits=logits, labels=labels).values())


def test_released_waiting_head_trains_like_loss_weight_zero():
    """Released semantics end to end: before start_epoch a train step
    equals one with w_cl = 0 (same backbone and classifier update, same
    prototypes), and differs from one where the loss counts."""
    batch = _batch()

    def step(**head_kwargs):
        torch.manual_seed(0)
        model = MODELS.build(tiny_model(**head_kwargs))
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
        log = model.train_step(copy.deepcopy(batch), wrapper)
        return model, log

    waiting, log = step(start_epoch=1)
    assert float(log['loss_cfr_block3']) == 0
    silent, _ = step(loss_weight=0.)
    counting, _ = step()
    w, s, c = (dict(m.named_parameters()) for m in (waiting, silent,
                                                     counting))
    backbone = [k for k in w if k.startswith('backbone.')]
    assert all(torch.equal(w[k], s[k]) for k in w)
    assert any(not torch.equal(w[k], c[k]) for k in backbone)
    wb, sb = (dict(m.named_buffers()) for m in (waiting, silent))
    assert all(torch.equal(wb[k], sb[k]) for k in wb)


def test_switch_off_skips_the_head_before_start_epoch():
    torch.manual_seed(0)
    head = MODELS.build(tiny_head(start_epoch=1, update_before_start=False))
    taps, logits, labels = _head_inputs()
    before = _state(head)
    losses = head.loss(taps, logits=logits, labels=labels)
    assert all(float(v) == 0 for v in losses.values())
    for k, v in head.state_dict().items():  # no prototype / BN update
        assert torch.equal(v, before[k]), k
    sum(losses.values()).backward()  # still tied to every parameter
    assert all(p.grad is not None for p in head.parameters())
    _set_epoch(1)
    losses = head.loss(taps, logits=logits, labels=labels)
    assert all(float(v) > 0 for v in losses.values())
    changed = [k for k, v in head.state_dict().items()
               if not torch.equal(v, before[k])]
    assert any(k.endswith('prototypes') for k in changed)
    assert any(k.endswith('running_mean') for k in changed)
