"""SkeAttnCLR through mmengine's Runner on tiny 3D data: the momentum hook
(schedule end points, EMA after the first optimizer step by hand), the
queue and key encoder evolving, the kNN validation loop (weighted kNN by
hand), and a resume that restores queue and key encoder bit for bit."""
import math
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import HOOKS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmskelcl.compat.checkpoint import load_checkpoint_file
from mmskelcl.engine import MomentumUpdateHook, momentum_at, weighted_knn


def test_momentum_schedule_end_points():
    assert momentum_at(0.996, 0, 100) == 0.996
    assert momentum_at(0.996, 100, 100) == pytest.approx(1.0)
    assert momentum_at(0.996, 50, 100) == pytest.approx(0.998)
    assert momentum_at(0.996, 25, 100) == pytest.approx(
        1 - 0.004 * (math.cos(math.pi / 4) + 1) / 2)
    assert momentum_at(0.996, 70, 100, 'constant') == 0.996
    with pytest.raises(ValueError, match='schedule'):
        MomentumUpdateHook(schedule='linear')


def test_weighted_knn_by_hand():
    bank = torch.tensor([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 0.9],
                         [-1., 0.]])
    labels = torch.tensor([0, 0, 1, 1, 2])
    query = torch.tensor([[0.6, 0.4], [0.2, 1.0]])
    t = 0.1
    pred = weighted_knn(query, bank, labels, k=3, temperature=t,
                        num_classes=3)
    for i, q in enumerate(query):
        qn = q / q.norm()
        sims = [(float(qn @ (b / b.norm())), int(y))
                for b, y in zip(bank, labels)]
        top = sorted(sims, reverse=True)[:3]
        votes = [0.0] * 3
        for s, y in top:
            votes[y] += math.exp(s / t)
        assert int(pred[i]) == int(np.argmax(votes))
    # k=1 is the nearest neighbour; k beyond the bank is clamped
    assert weighted_knn(query, bank, labels, 1, t, 3).tolist() == [0, 1]
    assert len(weighted_knn(query, bank, labels, 50, t, 3)) == 2


def _write_pickle(path, n=16, T=16, num_classes=2):
    rng = np.random.default_rng(0)
    annos = []
    for i in range(n):
        label = i % num_classes
        kp = np.zeros((2, T, 25, 3), np.float32)
        base = rng.normal(size=(25, 3)) * 0.3
        t = np.arange(T)[:, None, None] / T
        wave = np.sin(2 * np.pi * (1 + label) * t) * (label * 2 - 1)
        kp[0] = base + wave * np.array([1., 0.5, 0.])
        annos.append(dict(frame_dir=f's{i:02d}', label=label,
                          total_frames=T, keypoint=kp))
    names = [a['frame_dir'] for a in annos]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(train=names[:12], val=names[12:]),
                         annotations=annos), f)


@HOOKS.register_module(force=True)
class _RecordFirstStep(Hook):
    """Parameters around the first iteration (runs after the momentum
    hook: priority LOW)."""
    priority = 'LOW'

    def before_train(self, runner):
        model = runner.model
        self.q0 = [p.detach().clone() for p in model.backbone.parameters()]
        self.k0 = [p.detach().clone() for p in model.backbone_k.parameters()]

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model
        if runner.iter == 0:
            self.q1 = [p.detach().clone() for p in
                       model.backbone.parameters()]
            self.k1 = [p.detach().clone() for p in
                       model.backbone_k.parameters()]
        self.losses = getattr(self, 'losses', []) + [
            {k: float(v.detach()) for k, v in outputs.items()}]
        self.momenta = getattr(self, 'momenta', []) + [
            runner.message_hub.get_scalar('train/momentum').current()]


def _cfg(ann_file, work_dir, max_epochs=2):
    views = dict(type='ContrastiveViews', transforms=[
        dict(type='TemporalMirrorCrop', padding_ratio=6),
        dict(type='RandomShear', amplitude=0.5)])
    train_pipe = [views, dict(type='FormatGCNInput', num_person=2),
                  dict(type='PackActionInputs')]
    test_pipe = [dict(type='FormatGCNInput', num_person=2),
                 dict(type='PackActionInputs')]
    ds = dict(type='SkeletonDataset', ann_file=ann_file, num_classes=2)
    loader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=True),
                  drop_last=True)
    test_loader = dict(loader, sampler=dict(type='DefaultSampler',
                                            shuffle=False), drop_last=False)
    model = dict(
        type='SkeAttnCLR', stream='b',
        backbone=dict(type='STGCNTaps', graph_cfg=dict(
            layout='nturgb+d', mode='spatial'), base_channels=8,
            num_stages=4, inflate_stages=[3], down_stages=[2, 3],
            tcn_dropout=0.5),
        neck=dict(type='AttnMaskNeck', in_channels=16, num_heads=4,
                  projector=dict(type='MLP1D', in_channels=16,
                                 hid_channels=16, out_channels=8)),
        predictor=dict(type='MLP1D', in_channels=8, hid_channels=16,
                       out_channels=8),
        mix=dict(type='SkeletonPartMix', temporal_units=(1, 2)),
        queue_len=20, feat_dim=8)
    return Config(dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['mmskelcl'], allow_failed_imports=False),
        work_dir=work_dir, model=model,
        train_dataloader=dict(**loader, dataset=dict(
            **ds, split='train', pipeline=train_pipe)),
        val_dataloader=dict(**test_loader, dataset=dict(
            **ds, split='val', pipeline=test_pipe, test_mode=True)),
        val_evaluator=dict(type='KNNMetric', ks=(1, 3)),
        val_cfg=dict(type='KNNValLoop', bank_dataloader=dict(
            **test_loader, dataset=dict(**ds, split='train',
                                        pipeline=test_pipe,
                                        test_mode=True))),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                       val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                          weight_decay=1e-4)),
        param_scheduler=[dict(type='MultiStepLR', milestones=[1],
                              by_epoch=True)],
        custom_hooks=[dict(type='MomentumUpdateHook', momentum=0.9),
                      dict(type='_RecordFirstStep')],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0), log_level='WARNING'))


@pytest.fixture()
def ann_file(tmp_path):
    path = str(tmp_path / 'tiny3d.pkl')
    _write_pickle(path)
    return path


def test_pretrain_cycle_knn_and_resume(ann_file, tmp_path):
    work = str(tmp_path / 'work')
    runner = Runner.from_cfg(_cfg(ann_file, work))
    runner.train()
    rec = [h for h in runner.hooks if isinstance(h, _RecordFirstStep)][0]
    model = runner.model
    # 3 iterations per epoch, 6 in all; momentum 0.9 cosine to 1 (0-based)
    assert len(rec.losses) == 6
    for i, m in enumerate(rec.momenta):
        assert m == pytest.approx(momentum_at(0.9, i, 6))
    assert rec.momenta[0] == pytest.approx(0.9)
    for out in rec.losses:
        assert all(math.isfinite(v) for v in out.values())
        assert {'loss_global', 'loss_salient', 'loss_nonsalient'} <= set(out)
    # the released init draws the key encoder independently of the query
    # (init_scheme='library' would copy it), and after the first step it
    # is 0.9 k0 + 0.1 q1 (q1: the query after the optimizer step)
    assert not all(torch.equal(q0, k0) for q0, k0 in zip(rec.q0, rec.k0))
    changed = 0
    for k0, q0, q1, k1 in zip(rec.k0, rec.q0, rec.q1, rec.k1):
        torch.testing.assert_close(k1, 0.9 * k0 + 0.1 * q1)
        changed += int(not torch.equal(q0, q1))
    assert changed > 0
    assert not all(torch.equal(a, b) for a, b in zip(
        model.backbone_k.parameters(), model.backbone.parameters()))
    # 6 batches of 4 into 20 slots
    assert int(model.queue.ptr) == 24 % 20
    # kNN metrics from the validation loop
    knn = runner.message_hub.get_scalar('val/knn/top1_k1').current()
    assert 0.0 <= knn <= 1.0
    assert runner.message_hub.get_scalar('val/knn/top1_k3') is not None

    # resume from epoch 1: queue (feats, ptr) and key encoder bit for bit
    ckpt1 = osp.join(work, 'epoch_1.pth')
    saved = load_checkpoint_file(ckpt1, map_location='cpu')['state_dict']
    assert int(saved['queue.ptr']) == 12 % 20
    cfg = _cfg(ann_file, str(tmp_path / 'resume'))
    cfg.resume, cfg.load_from = True, ckpt1
    resumed = Runner.from_cfg(cfg)
    resumed.train()  # resumes at epoch 1, trains epoch 2
    rec2 = [h for h in resumed.hooks if isinstance(h, _RecordFirstStep)][0]
    # the momentum schedule continued from iteration 3
    for i, m in enumerate(rec2.momenta):
        assert m == pytest.approx(momentum_at(0.9, 3 + i, 6))
    assert int(resumed.model.queue.ptr) == 24 % 20
    again = Runner.from_cfg(cfg)
    again._train_loop = again.build_train_loop(again._train_loop)
    again.optim_wrapper = again.build_optim_wrapper(again.optim_wrapper)
    again.load_or_resume()
    state = again.model.state_dict()
    keys = [k for k in saved if k.startswith(('queue.', 'backbone_k.',
                                              'neck_k.'))]
    assert len(keys) > 10
    for k in keys:
        assert torch.equal(state[k], saved[k]), k
