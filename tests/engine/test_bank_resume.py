"""A CACL run through mmengine's Runner: the memory bank is saved in the
checkpoints, restored bit for bit on resume, and a CACL checkpoint is a
plain RecognizerGCN checkpoint plus ``aux_heads.*`` entries."""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.runner import Runner

from mmskelcl.engine import MemoryBankHook
from mmskelcl.models.memory import MemoryBank

from bank_helpers import runner_cfg, write_pickle

BANK_KEYS = ('feats', 'labels', 'valid', 'ptr')
PREFIX = 'aux_heads.graph.contrast.bank.'


def _bank(model):
    banks = [(n, m) for n, m in model.named_modules()
             if isinstance(m, MemoryBank)]
    assert [n for n, _ in banks] == [PREFIX[:-1]]
    return banks[0][1]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train 2 epochs once for the module; returns (ann_file, work_dir,
    the trained runner's message hub scalars)."""
    tmp = tmp_path_factory.mktemp('cacl_resume')
    ann = str(tmp / 'tiny.pkl')
    write_pickle(ann)
    work = str(tmp / 'work')
    runner = Runner.from_cfg(runner_cfg(ann, work, max_epochs=2))
    runner.train()
    scalars = runner.message_hub.log_scalars
    contrast = scalars['train/loss_contrast'].data[0]
    return ann, work, contrast, tmp


def _load(path):
    from mmskelcl.compat.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path, map_location='cpu')


def test_training_writes_the_bank_into_checkpoints(trained):
    ann, work, contrast, _ = trained
    assert len(contrast) == 6  # 2 epochs x 3 iterations, all logged
    assert (contrast > 0).all()  # the contrastive term was active
    for epoch in (1, 2):
        sd = _load(osp.join(work, f'epoch_{epoch}.pth'))['state_dict']
        assert {PREFIX + k for k in BANK_KEYS} <= set(sd)
        # index mode, sized by MemoryBankHook to the 9 training samples;
        # slot i holds sample i (label i % 3) after a full epoch
        assert sd[PREFIX + 'feats'].shape == (9, 16)
        assert sd[PREFIX + 'valid'].all()
        assert sd[PREFIX + 'labels'].tolist() == [i % 3 for i in range(9)]
        norms = sd[PREFIX + 'feats'].norm(dim=1)
        torch.testing.assert_close(norms, torch.ones(9))
    e1 = _load(osp.join(work, 'epoch_1.pth'))['state_dict']
    e2 = _load(osp.join(work, 'epoch_2.pth'))['state_dict']
    assert not torch.equal(e1[PREFIX + 'feats'], e2[PREFIX + 'feats'])


def test_resume_restores_bank_bit_for_bit(trained):
    ann, work, _, tmp = trained
    ckpt1 = osp.join(work, 'epoch_1.pth')
    cfg = runner_cfg(ann, str(tmp / 'work_resume'), max_epochs=2)
    cfg.resume, cfg.load_from = True, ckpt1
    resumed = Runner.from_cfg(cfg)
    bank = _bank(resumed.model)
    assert bank.size == 0  # unsized until the checkpoint is loaded
    resumed._train_loop = resumed.build_train_loop(resumed._train_loop)
    resumed.optim_wrapper = resumed.build_optim_wrapper(
        resumed.optim_wrapper)
    resumed.load_or_resume()
    assert resumed.epoch == 1
    saved = _load(ckpt1)['state_dict']
    for k in BANK_KEYS:
        got = getattr(bank, k)
        assert got.dtype == saved[PREFIX + k].dtype
        assert torch.equal(got, saved[PREFIX + k]), k
    # MemoryBankHook leaves a restored bank alone
    MemoryBankHook().before_train(resumed)
    for k in BANK_KEYS:
        assert torch.equal(getattr(bank, k), saved[PREFIX + k]), k
    # and training goes on from there (epoch 2) with the same bank size
    resumed.train()
    assert resumed.epoch == 2 and bank.size == 9 and bank.valid.all()


def test_cacl_checkpoint_loads_into_plain_recognizer(trained):
    ann, work, _, tmp = trained
    ckpt = _load(osp.join(work, 'epoch_2.pth'))['state_dict']
    aux_cfg = runner_cfg(ann, str(tmp / 'unused'))
    plain_cfg = runner_cfg(ann, str(tmp / 'unused'), aux=False,
                           recognizer='RecognizerGCN')
    aux = MODELS.build(aux_cfg.model).eval()
    plain = MODELS.build(plain_cfg.model).eval()
    aux.load_state_dict(ckpt, strict=True)
    missing, unexpected = plain.load_state_dict(ckpt, strict=False)
    assert not missing
    assert unexpected and all(k.startswith('aux_heads.') for k in unexpected)
    assert {PREFIX + k for k in BANK_KEYS} <= set(unexpected)

    loader = Runner.build_dataloader(aux_cfg.test_dataloader)
    n = 0
    for batch in loader:
        with torch.no_grad():
            out_aux = aux.test_step(batch)
            out_plain = plain.test_step(batch)
        for a, b in zip(out_aux, out_plain):
            assert torch.equal(a.pred_score, b.pred_score)
            n += 1
    assert n == 3  # the 3 validation clips
