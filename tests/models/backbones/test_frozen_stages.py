"""frozen_stages / norm_eval and backbone-only prefix loading, on every
tapped backbone of ``test_tap_contract.TINY``."""
import pytest
import torch
from mmaction.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from test_tap_contract import TINY, build


def stages(model):
    return model._stage_modules()


def bn_stats(module):
    return [m.running_mean.clone() for m in module.modules()
            if isinstance(m, _BatchNorm)]


@pytest.mark.parametrize('name', sorted(TINY))
@pytest.mark.parametrize('frozen', [0, 2])
def test_frozen_parameters_get_no_gradient(name, frozen):
    model, x = build(name, frozen_stages=frozen)
    model.train()
    model(x).square().mean().backward()
    mods = stages(model)
    for i, module in enumerate(mods):
        params = list(module.parameters())
        if not params:
            continue
        if i <= frozen:
            assert all(p.grad is None and not p.requires_grad
                       for p in params), (name, i)
        else:
            assert all(p.requires_grad and p.grad is not None
                       for p in params), (name, i)
            assert any(p.grad.abs().sum() > 0 for p in params), (name, i)
    # the last stage is never frozen here: it trains
    assert any(p.grad is not None for p in mods[-1].parameters())


@pytest.mark.parametrize('name', sorted(TINY))
def test_frozen_batchnorm_keeps_its_statistics_in_train_mode(name):
    model, x = build(name, frozen_stages=2)
    model.train()  # what the Runner does every epoch
    mods = stages(model)
    before = [bn_stats(m) for m in mods]
    with torch.no_grad():
        model(x)
    after = [bn_stats(m) for m in mods]
    for i, (b, a) in enumerate(zip(before, after)):
        same = all(torch.equal(u, v) for u, v in zip(b, a))
        if b:
            assert same == (i <= 2), (name, i)
    assert model.training and mods[-1].training and not mods[1].training


@pytest.mark.parametrize('name', sorted(TINY))
def test_norm_eval_fixes_every_bn_but_trains_the_affine_parameters(name):
    model, x = build(name, norm_eval=True)
    if not any(isinstance(m, _BatchNorm) for m in model.modules()):
        pytest.skip(f'{name} has no BatchNorm: norm_eval has nothing to fix')
    model.train()
    before = bn_stats(model)
    out = model(x)
    assert all(torch.equal(u, v) for u, v in zip(before, bn_stats(model)))
    out.square().mean().backward()
    bns = [m for m in model.modules()
           if isinstance(m, _BatchNorm) and m.affine]
    assert any(m.weight.grad is not None for m in bns)
    # and eval-mode BN differs from batch statistics: the flag matters
    model2, _ = build(name)
    model2.train()
    assert not torch.allclose(model2(x), out.detach())


@pytest.mark.parametrize('name', sorted(TINY))
def test_frozen_stages_out_of_range_is_refused(name):
    with pytest.raises(ValueError, match='frozen_stages'):
        build(name, frozen_stages=99)


@pytest.mark.parametrize('name', sorted(TINY))
def test_backbone_loads_alone_by_prefix(name, tmp_path):
    cfg, shape = TINY[name]
    src, _ = build(name)
    channels = list(src.tap_info().values())[-1].channels
    if name == 'CTRGCN':
        channels = src.out_channels
    head = dict(type='GCNHead', num_classes=4, in_channels=channels)
    torch.manual_seed(1)
    full = MODELS.build(dict(type='RecognizerGCN', backbone=cfg,
                             cls_head=head))
    ckpt = tmp_path / 'pretrained.pth'
    torch.save({'state_dict': full.state_dict(), 'meta': {}}, ckpt)
    torch.manual_seed(2)
    new = MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(cfg, init_cfg=dict(type='Pretrained',
                                              checkpoint=str(ckpt),
                                              prefix='backbone.')),
             cls_head=head))
    new.init_weights()
    for k, v in full.backbone.state_dict().items():
        assert torch.equal(v, new.backbone.state_dict()[k]), k
    # the classifier is not taken from the checkpoint
    assert not torch.equal(full.cls_head.fc.weight, new.cls_head.fc.weight)
