"""A CSRE run through mmengine's Runner: both banks (spatial, temporal)
are written into the checkpoints and restored bit for bit on resume."""
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmskelcl.compat.checkpoint import load_checkpoint_file
from mmskelcl.engine import MemoryBankHook
from mmskelcl.models.memory import MemoryBank
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

BRANCHES = ('spatial', 'temporal')
BANK_KEYS = ('feats', 'labels', 'valid', 'ptr')
PREFIX = 'aux_heads.csre.contrast.{}.bank.'
NUM_TRAIN = 9  # write_tiny_pickle: 9 training clips, labels i % 3


def _cfg(ann, work, max_epochs=2):
    # 3 clips per class: 2 positives / 4 negatives, so anchors contribute
    head = dict(type='CSREHead', feat_dim=16,
                sampler=dict(num_pos=2, num_neg=4))
    model = dict(type='AuxRecognizerGCN', backbone=TINY_BACKBONE,
                 num_frames=8, aux_heads=dict(csre=head),
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    return tiny_runner_cfg(ann, work, model, max_epochs=max_epochs,
                           val_interval=100,
                           custom_hooks=[dict(type='MemoryBankHook')])


def _banks(model):
    banks = {n: m for n, m in model.named_modules()
             if isinstance(m, MemoryBank)}
    assert sorted(banks) == sorted(PREFIX.format(b)[:-1] for b in BRANCHES)
    return {b: banks[PREFIX.format(b)[:-1]] for b in BRANCHES}


def _state(path):
    return load_checkpoint_file(path, map_location='cpu')['state_dict']


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('csre_resume')
    ann = str(tmp / 'tiny.pkl')
    write_tiny_pickle(ann)
    work = str(tmp / 'work')
    runner = Runner.from_cfg(_cfg(ann, work))
    runner.train()
    scalars = runner.message_hub.log_scalars
    losses = {b: scalars[f'train/loss_csre_{b}'].data[0] for b in BRANCHES}
    return ann, work, losses, tmp


def test_both_banks_are_written_into_the_checkpoints(trained):
    _, work, losses, _ = trained
    for b in BRANCHES:
        assert len(losses[b]) == 6  # 2 epochs x 3 iterations
        assert (losses[b][1:] > 0).all(), (b, losses[b])
    e1, e2 = (_state(osp.join(work, f'epoch_{e}.pth')) for e in (1, 2))
    for b in BRANCHES:
        pre = PREFIX.format(b)
        assert {pre + k for k in BANK_KEYS} <= set(e1)
        assert e1[pre + 'feats'].shape == (NUM_TRAIN, 16)
        assert e1[pre + 'valid'].all()
        assert e1[pre + 'labels'].tolist() == [i % 3 for i in range(9)]
        torch.testing.assert_close(e1[pre + 'feats'].norm(dim=1),
                                   torch.ones(NUM_TRAIN))
        assert not torch.equal(e1[pre + 'feats'], e2[pre + 'feats'])
    # two banks of two different features, not one bank twice
    s, t = (e2[PREFIX.format(b) + 'feats'] for b in BRANCHES)
    assert not torch.allclose(s, t)


def test_resume_restores_both_banks_bit_for_bit(trained):
    ann, work, _, tmp = trained
    ckpt1 = osp.join(work, 'epoch_1.pth')
    cfg = _cfg(ann, str(tmp / 'work_resume'))
    cfg.resume, cfg.load_from = True, ckpt1
    resumed = Runner.from_cfg(cfg)
    banks = _banks(resumed.model)
    assert all(bank.size == 0 for bank in banks.values())
    resumed._train_loop = resumed.build_train_loop(resumed._train_loop)
    resumed.optim_wrapper = resumed.build_optim_wrapper(
        resumed.optim_wrapper)
    resumed.load_or_resume()
    assert resumed.epoch == 1
    saved = _state(ckpt1)

    def check():
        for b, bank in banks.items():
            for k in BANK_KEYS:
                ref = saved[PREFIX.format(b) + k]
                got = getattr(bank, k)
                assert got.dtype == ref.dtype and torch.equal(got, ref), \
                    (b, k)

    check()
    MemoryBankHook().before_train(resumed)  # leaves restored banks alone
    check()
    resumed.train()
    assert resumed.epoch == 2
    for bank in banks.values():
        assert bank.size == NUM_TRAIN and bank.valid.all()
