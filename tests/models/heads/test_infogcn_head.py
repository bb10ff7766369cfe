"""InfoGCNHead's latent standard deviation (the release's values, finite
gradients) and the NW-UCLA InfoGCN recipe staying finite at initialisation
scale. The head's released losses and logits are tested in
tests/models/backbones/test_infogcn.py."""
import copy
import math
import os.path as osp

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmskelcl.models.heads.infogcn_head import InfoGCNHead, latent_std

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


def released_std(logvar, ratio):
    """``InfoGCN.latent_sample`` of stnoah1/infogcn."""
    return logvar.mul(ratio).exp().clamp(max=100)


def test_latent_std_has_the_released_values_and_finite_gradients():
    logvar = torch.tensor([-3., 0., 4., 9.2, 9.3, 20., 200., 1000.],
                          requires_grad=True)
    std = latent_std(logvar, 0.5)
    torch.testing.assert_close(std, released_std(logvar, 0.5), rtol=1e-6,
                               atol=0)
    assert std[4:].eq(100).all()  # 0.5 * 9.3 > log(100): saturated
    std.sum().backward()
    # d/dlv exp(lv / 2) = exp(lv / 2) / 2 below the ceiling, 0 above
    expected = [math.exp(v / 2) / 2 for v in (-3., 0., 4., 9.2)] + [0.] * 4
    torch.testing.assert_close(logvar.grad, torch.tensor(expected))
    # the released order (clamp after exp) gives inf * 0 = NaN where the
    # float32 exp overflows (0.5 * logvar > 88.7)
    ref = logvar.detach().clone().requires_grad_()
    released_std(ref, 0.5).sum().backward()
    assert ref.grad[-2:].isnan().all()


def test_head_gradients_stay_finite_when_logvar_explodes():
    torch.manual_seed(0)
    head = InfoGCNHead(num_classes=10, in_channels=16)
    with torch.no_grad():  # logvar ~ 400: exp(0.5 * 400) is inf in float32
        head.fc_logvar.bias.fill_(400.)
    head.train()
    scores = head(torch.rand(4, 1, 16, 3, 5))
    samples = [ActionDataSample().set_gt_label(c) for c in (0, 1, 2, 3)]
    losses = head.loss_by_feat(scores, samples)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    for name, p in head.named_parameters():
        assert torch.isfinite(p.grad).all(), name
    assert head.fc_logvar.bias.grad.abs().max() < 1e-3  # saturated


def test_nwucla_recipe_stays_finite_from_the_released_init():
    """Five SGD steps of configs/nwucla/infogcn_j.py (its optimizer and
    gradient clipping, lr 0.02 of the first warm-up epoch) on batches of
    16 in NW-UCLA's [-1, 1] coordinate range. Unclipped, the loss goes
    38 -> 354 -> 1806 -> NaN in this setting."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'nwucla',
                                   'infogcn_j.py'))
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=1.)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    wrapper = copy.deepcopy(cfg.optim_wrapper)
    wrapper.optimizer.lr = 0.02
    optim = build_optim_wrapper(model, wrapper)
    gen = torch.Generator().manual_seed(1)
    samples = [ActionDataSample().set_gt_label(c % 10) for c in range(16)]
    losses = []
    for _ in range(5):
        x = torch.rand(16, 1, 1, 16, 20, 3, generator=gen) * 2 - 1
        parts = model(x, samples, mode='loss')
        loss = sum(v for k, v in parts.items() if k.startswith('loss'))
        optim.update_params(loss)
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert max(losses) < 2 * losses[0], losses  # no blow-up
    for name, p in model.named_parameters():
        assert torch.isfinite(p).all(), name
