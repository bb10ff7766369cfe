"""An FR-Head run through mmengine's Runner: the prototypes are saved in
the checkpoints, restored bit for bit on resume, and the checkpoint loads
into the plain RecognizerGCN."""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.runner import Runner

from mmskelcl.models.losses import CFRLoss

from frhead_helpers import runner_cfg, write_pickle

STATE = ('prototypes', 'proto_updates')
# 2 stages x 2 branches, each a CFRLoss with its own prototypes
CFR_PREFIXES = [
    f'aux_heads.fr.stages.{tap}.cfr.{branch}.'
    for tap in ('block1', 'block3') for branch in ('spatial', 'temporal')
]


def _load(path):
    from mmskelcl.compat.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path, map_location='cpu')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('frhead_resume')
    ann = str(tmp / 'tiny.pkl')
    write_pickle(ann)
    work = str(tmp / 'work')
    runner = Runner.from_cfg(runner_cfg(ann, work, max_epochs=2))
    runner.train()
    scalars = runner.message_hub.log_scalars
    return ann, work, scalars, tmp


def test_checkpoints_hold_the_prototypes(trained):
    ann, work, scalars, _ = trained
    for tap in ('block1', 'block3'):
        assert len(scalars[f'train/loss_cfr_{tap}'].data[0]) == 6
    e1 = _load(osp.join(work, 'epoch_1.pth'))['state_dict']
    e2 = _load(osp.join(work, 'epoch_2.pth'))['state_dict']
    for prefix in CFR_PREFIXES:
        for k in STATE:
            assert prefix + k in e1 and prefix + k in e2
        assert e1[prefix + 'prototypes'].shape == (3, 32)
    # confident samples occurred and moved the prototypes between epochs
    updates = e2[CFR_PREFIXES[-1] + 'proto_updates']
    assert updates.sum() > e1[CFR_PREFIXES[-1] + 'proto_updates'].sum()
    assert not torch.equal(e1[CFR_PREFIXES[-1] + 'prototypes'],
                           e2[CFR_PREFIXES[-1] + 'prototypes'])


def test_resume_restores_prototypes_bit_for_bit(trained):
    ann, work, _, tmp = trained
    ckpt1 = osp.join(work, 'epoch_1.pth')
    cfg = runner_cfg(ann, str(tmp / 'work_resume'), max_epochs=2)
    cfg.resume, cfg.load_from = True, ckpt1
    resumed = Runner.from_cfg(cfg)
    model = resumed.model
    saved = _load(ckpt1)['state_dict']
    fresh = {n: {k: getattr(m, k).clone() for k in STATE}
             for n, m in model.named_modules() if isinstance(m, CFRLoss)}
    assert len(fresh) == 4
    resumed._train_loop = resumed.build_train_loop(resumed._train_loop)
    resumed.optim_wrapper = resumed.build_optim_wrapper(
        resumed.optim_wrapper)
    resumed.load_or_resume()
    assert resumed.epoch == 1
    for name, module in model.named_modules():
        if not isinstance(module, CFRLoss):
            continue
        for k in STATE:
            got = getattr(module, k)
            assert torch.equal(got, saved[f'{name}.{k}']), (name, k)
        assert not torch.equal(module.prototypes, fresh[name]['prototypes'])
    resumed.train()  # and training goes on from epoch 2
    assert resumed.epoch == 2


def test_checkpoint_loads_into_plain_recognizer(trained):
    ann, work, _, tmp = trained
    ckpt = _load(osp.join(work, 'epoch_2.pth'))['state_dict']
    aux_cfg = runner_cfg(ann, str(tmp / 'unused'))
    plain_cfg = runner_cfg(ann, str(tmp / 'unused'), aux=False)
    aux = MODELS.build(aux_cfg.model).eval()
    plain = MODELS.build(plain_cfg.model).eval()
    aux.load_state_dict(ckpt, strict=True)
    missing, unexpected = plain.load_state_dict(ckpt, strict=False)
    assert not missing
    assert all(k.startswith('aux_heads.fr.') for k in unexpected)
    loader = Runner.build_dataloader(aux_cfg.test_dataloader)
    n = 0
    for batch in loader:
        with torch.no_grad():
            for a, b in zip(aux.test_step(batch), plain.test_step(batch)):
                assert torch.equal(a.pred_score, b.pred_score)
                n += 1
    assert n == 3
