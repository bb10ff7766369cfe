"""BankContrastCheckHook (part of MemoryBankHook): the per-epoch anchor
log, the stop on a bank contrast that used no anchor in a whole epoch, and
the warn switch, through mmengine's Runner on the tiny data set (9 training
clips, labels i % 3, batches of 3 in order: each batch holds one clip per
class)."""
import logging
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from mmskelcl.engine.run_check_hooks import BankContrastCheckHook
from mmskelcl.models.memory import BankContrast
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

pytestmark = pytest.mark.filterwarnings('ignore::UserWarning')


def _cfg(ann, work, num_pos, max_epochs=2, **hook):
    head = dict(type='CSREHead', feat_dim=16,
                sampler=dict(num_pos=num_pos, num_neg=4))
    model = dict(type='AuxRecognizerGCN', backbone=TINY_BACKBONE,
                 num_frames=8, aux_heads=dict(csre=head),
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    return tiny_runner_cfg(ann, work, model, max_epochs=max_epochs,
                           val_interval=100,
                           custom_hooks=[dict(type='MemoryBankHook', **hook)])


@pytest.fixture(scope='module')
def ann(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('check') / 'tiny.pkl')
    write_tiny_pickle(path)
    return path


def _train(cfg):
    """Train; return the runner and the hook's info / warning lines."""
    runner = Runner.from_cfg(cfg)
    lines = dict(info=[], warning=[])
    with mock.patch.object(runner.logger, 'info',
                           side_effect=lines['info'].append), \
            mock.patch.object(runner.logger, 'warning',
                              side_effect=lines['warning'].append):
        try:
            runner.train()
        finally:
            lines['info'] = [m for m in lines['info'] if 'bank contrast' in m]
    return runner, lines


def _logged(line, name):
    """(fraction, mean loss) of ``name`` in an epoch's log line."""
    part = line.split(f'{name} anchors ')[1].split(',')[0]
    frac, loss = part.split(' loss ')
    return float(frac), float(loss)


def test_healthy_run_logs_anchor_fraction_and_mean_loss(ann, tmp_path):
    # N+ 2, N_c 4, skip: the first batch of epoch 1 finds 1 positive and 2
    # negatives per anchor (skipped), batches 2 and 3 qualify: 6 / 9; in
    # epoch 2 the bank is full: 9 / 9
    runner, lines = _train(_cfg(ann, str(tmp_path), num_pos=2))
    assert len(lines['info']) == 2 and not lines['warning']
    scalars = runner.message_hub.log_scalars
    for b in ('spatial', 'temporal'):
        losses = np.asarray(scalars[f'train/loss_csre_{b}'].data[0])
        fracs = np.asarray(scalars[f'train/csre_{b}_anchors'].data[0])
        assert fracs.tolist() == [0, 1, 1, 1, 1, 1]
        for epoch, line in enumerate(lines['info']):
            frac, loss = _logged(line, f'csre_{b}')
            assert frac == pytest.approx((6 / 9, 1.0)[epoch], abs=1e-3)
            # the mean of the three iterations mmengine logged
            assert loss == pytest.approx(
                losses[3 * epoch:3 * epoch + 3].mean(), rel=1e-3)
            assert loss > 0


def test_starved_run_stops_with_the_diagnosis(ann, tmp_path):
    # 3 clips per class, N+ 4 under 'skip': no anchor ever qualifies
    with pytest.raises(RuntimeError) as err:
        _train(_cfg(ann, str(tmp_path), num_pos=4))
    msg = str(err.value)
    assert '\n' not in msg
    first = msg.split(' | ')[0]  # one part per starved branch
    assert first.startswith('aux_heads.csre (loss_csre_spatial) used no '
                            'anchor in epoch 1, so its loss was 0: bank of 9 '
                            'slots (9 filled), an anchor needs 4 positives '
                            'and 4 negatives; classes short (class: entries)'
                            ': 0: 3 < 4 positives, 1: 3 < 4 positives, 2: 3 '
                            '< 4 positives. Fix: --cfg-options ')
    key = 'model.aux_heads.csre.sampler'
    assert f'{key}.min_pos_policy=use_available' in first
    assert f'{key}.min_neg_policy=use_available' in first
    assert f'{key}.num_pos / {key}.num_neg' in first
    assert first.endswith('--cfg-options custom_hooks.0.on_starved=warn '
                          'only warns')
    assert 'aux_heads.csre (loss_csre_temporal)' in msg


def test_warn_switch_warns_once_per_epoch_and_trains_on(ann, tmp_path):
    runner, lines = _train(
        _cfg(ann, str(tmp_path), num_pos=4, max_epochs=3,
             on_starved='warn'))
    assert runner.epoch == 3
    assert len(lines['warning']) == 3
    for epoch, line in enumerate(lines['warning'], 1):
        assert line.count('used no anchor') == 2  # both branches, one line
        assert f'in epoch {epoch},' in line
    assert all(_logged(line, 'csre_spatial') == (0.0, 0.0)
               for line in lines['info'])


def _unit(start_epoch=0, num_pos=2, skip=True):
    policy = 'skip' if skip else 'use_available'
    return BankContrast(
        dim=4, bank=dict(size=6), start_epoch=start_epoch,
        sampler=dict(num_pos=num_pos, num_neg=2, min_pos_policy=policy,
                     min_neg_policy=policy),
        loss_name='loss_graph')


def _fake_runner(model, epoch):
    logger = logging.getLogger('bank_check_test')
    return SimpleNamespace(model=model, epoch=epoch, logger=logger,
                           cfg=dict(custom_hooks=[]))


def _step(unit, labels, idx):
    z = torch.nn.functional.normalize(torch.randn(len(labels), 4), dim=1)
    unit.train()
    return unit(z, torch.tensor(labels), torch.tensor(idx))


def test_no_stop_before_start_epoch_and_graph_head_key():
    torch.manual_seed(0)
    model = torch.nn.Module()
    model.aux_heads = torch.nn.ModuleDict(
        dict(graph=torch.nn.Module()))
    model.aux_heads.graph.contrast = _unit(start_epoch=1, num_pos=3)
    unit = model.aux_heads.graph.contrast
    hook = BankContrastCheckHook()
    # classes 0 and 1 with 2 entries each: 2 < 3 positives for all anchors
    _step(unit, [0, 1, 0, 1], [0, 1, 2, 3])
    hook.after_train_epoch(_fake_runner(model, epoch=0))  # before start
    _step(unit, [0, 1, 0, 1], [0, 1, 2, 3])
    with pytest.raises(RuntimeError, match=r'^aux_heads.graph \(loss_graph\)'
                       r'.*bank of 6 slots \(4 filled\).*0: 2 < 3 positives, '
                       r'1: 2 < 3 positives.*model.aux_heads.graph.sampler'
                       r".min_pos_policy=use_available.*on_starved='warn' on "
                       r'BankContrastCheckHook only warns$'):
        hook.after_train_epoch(_fake_runner(model, epoch=1))
    # the statistics restart every epoch: a relaxed sampler passes
    unit.sampler.min_pos_policy = 'use_available'
    _step(unit, [0, 1, 0, 1], [0, 1, 2, 3])
    hook.after_train_epoch(_fake_runner(model, epoch=2))
    assert unit.pop_epoch_stats().tolist() == [0, 0, 0, 0]


def test_sampler_starved_classes_follows_its_eligibility_rule():
    unit = _unit(num_pos=3)
    counts = [3, 2, 0, 1]  # 6 entries: class 2 absent
    short = unit.sampler.starved_classes(counts)
    assert short == {1: '2 < 3 positives', 3: '1 < 3 positives'}
    # the same verdict from the sampler's forward on such a bank
    labels = torch.tensor([0, 0, 0, 1, 1, 3])
    pairs = unit.sampler(torch.zeros(4, 6), torch.tensor([0, 1, 3, 2]),
                         labels, torch.ones(6, dtype=torch.bool))
    assert pairs.eligible.tolist() == [True, False, False, False]
    unit.sampler.exclude_self = True
    assert unit.sampler.starved_classes(counts)[0] == '2 < 3 positives'
    unit.sampler.exclude_self = False
    unit.sampler.num_neg = 4  # class 0 has 3 negatives
    assert unit.sampler.starved_classes(counts)[0] == '3 < 4 negatives'
