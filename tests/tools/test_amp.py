"""Mixed precision: ``tools/train.py --amp`` on the CPU (bfloat16 through
BF16AmpOptimWrapper) trains every shipped NW-UCLA method config with finite
losses, and the precision-critical parts (bank similarities, sampling,
InfoNCE, FR-Head prototypes) give the float32 result under autocast."""
import glob
import math
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner

import mmskelcl  # noqa: F401
from mmskelcl.engine.amp import BF16AmpOptimWrapper
from mmskelcl.models.losses import CFRLoss, SampledInfoNCELoss
from mmskelcl.models.memory import BankContrast
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BF16 = dict(device_type='cpu', dtype=torch.bfloat16)


def _train_tool():
    return load_tool('train.py')


train_tool = _train_tool()


# ----------------------------------------------------------- precision
def _contrast_loss(z, bank, labels, bank_labels, autocast, cast_sim=False):
    """BankContrast loss, anchor gradient and sampled pairs of anchors
    ``z`` against a filled bank (FIFO bank written after the loss, so the
    loss sees exactly ``bank``). ``cast_sim`` rounds the similarities to
    bf16 first: what autocast gives without the float32 guard."""
    unit = BankContrast(dim=z.shape[1], bank=dict(mode='fifo',
                                                  size=len(bank)),
                        update_before_loss=False)
    unit.bank.feats.copy_(bank)
    unit.bank.labels.copy_(bank_labels)
    unit.bank.valid.fill_(True)
    pairs = []
    unit.sampler.register_forward_hook(lambda m, i, out: pairs.append(out))
    if cast_sim:
        unit.sampler.register_forward_pre_hook(
            lambda m, args: (args[0].bfloat16().float(), *args[1:]))
        unit.loss_fn.register_forward_pre_hook(
            lambda m, args: (args[0].bfloat16().float(), *args[1:]))
    z = z.clone().requires_grad_()
    torch.manual_seed(1)  # random negatives: same draw in every run
    with torch.autocast(**BF16, enabled=autocast):
        loss = unit(F.normalize(z, dim=1), labels)['loss_contrast']
    loss.backward()
    return loss.detach(), z.grad, pairs[0]


def test_bank_contrast_bf16_equals_float32():
    gen = torch.Generator().manual_seed(0)
    bank = F.normalize(torch.randn(600, 64, generator=gen), dim=1)
    bank_labels = torch.randint(6, (600, ), generator=gen)
    labels = torch.randint(6, (16, ), generator=gen)
    z = torch.randn(16, 64, generator=gen)
    ref, ref_grad, ref_pairs = _contrast_loss(z, bank, labels, bank_labels,
                                              False)
    amp, amp_grad, amp_pairs = _contrast_loss(z, bank, labels, bank_labels,
                                              True)
    assert amp.dtype == torch.float32 and ref > 0
    torch.testing.assert_close(amp, ref, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(amp_grad, ref_grad, rtol=1e-5, atol=1e-7)
    # the same hard positives and (random + class-aware) negatives
    assert torch.equal(amp_pairs.pos_idx, ref_pairs.pos_idx)
    for (a, _), (r, _) in zip(amp_pairs.neg_sets, ref_pairs.neg_sets):
        assert torch.equal(a, r)
    # the tolerances mean something: on bf16 similarities (no guard) the
    # hard positives change and the gradient is off by >10x the tolerance
    _, bf_grad, bf_pairs = _contrast_loss(z, bank, labels, bank_labels,
                                          False, cast_sim=True)
    def rel_err(grad):
        return float((grad - ref_grad).abs().max() / ref_grad.abs().max())

    print('relative gradient error: guarded', rel_err(amp_grad),
          'bf16 similarities', rel_err(bf_grad))
    assert not torch.equal(bf_pairs.pos_idx, ref_pairs.pos_idx)
    assert rel_err(amp_grad) < 1e-5 and rel_err(bf_grad) > 1e-4


def _cfr_run(x, logits, labels, autocast, steps=4):
    torch.manual_seed(0)
    cfr = CFRLoss(in_channels=x.shape[2], num_classes=5, hidden_channels=32)
    losses = []
    for i in range(steps):
        with torch.autocast(**BF16, enabled=autocast):
            losses.append(cfr(x[i], logits[i], labels[i]))
    return torch.stack(losses).detach(), cfr.prototypes.clone()


def test_cfr_prototypes_and_loss_bf16_equal_float32():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 24, 48, generator=gen)
    labels = torch.randint(5, (4, 24), generator=gen)
    # a classifier right on ~half the samples: TP, FN and FP all occur
    logits = torch.randn(4, 24, 5, generator=gen)
    logits.scatter_add_(2, labels[..., None], torch.full((4, 24, 1), 1.5))
    ref_loss, ref_proto = _cfr_run(x, logits, labels, False)
    amp_loss, amp_proto = _cfr_run(x, logits, labels, True)
    assert amp_proto.dtype == torch.float32
    torch.testing.assert_close(amp_proto, ref_proto, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(amp_loss, ref_loss, rtol=1e-6, atol=1e-6)
    assert (ref_loss > 0).all()


# ---------------------------------------------------------- the wrapper
def test_bf16_wrapper_autocasts_and_steps_like_sgd():
    lin = torch.nn.Linear(4, 3)
    start = lin.weight.detach().clone()
    wrapper = BF16AmpOptimWrapper(
        optimizer=torch.optim.SGD(lin.parameters(), lr=0.5))
    x = torch.randn(2, 4)
    with wrapper.optim_context(lin):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
        out = lin(x)
    assert out.dtype == torch.bfloat16
    loss = out.float().sum()
    wrapper.update_params(loss)
    # no loss scale: the step is plain SGD on the (bf16-computed) gradient
    grad = x.bfloat16().float().sum(0)  # d sum(Wx) / dW = sum_b x_b
    expected = start - 0.5 * grad.expand_as(start)
    torch.testing.assert_close(lin.weight.detach(), expected, rtol=1e-2,
                               atol=1e-2)
    state = wrapper.state_dict()
    wrapper.load_state_dict(state)
    with pytest.raises(ValueError, match='bfloat16'):
        BF16AmpOptimWrapper(dtype='float16', optimizer=torch.optim.SGD(
            lin.parameters(), lr=0.1))


def test_train_flag_picks_the_wrapper(tmp_path):
    cfg_file = osp.join(REPO, 'configs', 'nwucla', 'ctrgcn_j.py')
    args = train_tool.parse_args([cfg_file, '--amp'])
    cfg = train_tool.merge_args(Config.fromfile(cfg_file), args)
    if torch.cuda.is_available():
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    else:
        assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == (
            'BF16AmpOptimWrapper', 'bfloat16')
    args = train_tool.parse_args([cfg_file, '--amp', '--amp-dtype',
                                  'bfloat16'])
    cfg = train_tool.merge_args(Config.fromfile(cfg_file), args)
    assert cfg.optim_wrapper.type == 'BF16AmpOptimWrapper'
    if not torch.cuda.is_available():
        args = train_tool.parse_args([cfg_file, '--amp', '--amp-dtype',
                                      'float16'])
        with pytest.raises(SystemExit, match='bfloat16 on the CPU'):
            train_tool.merge_args(Config.fromfile(cfg_file), args)


# ------------------------------------------------- every method config
CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', 'nwucla', '*_j.py')))


BANK_HEADS = ('GraphContrastHead', 'CSREHead')
CLIP_LEN = 32  # HCN's head is sized for 32 frames


def _walk(obj):
    """Every dict nested in ``obj``."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _walk(value)


def _write_ucla_like(path, n=8, T=60):
    rng = np.random.default_rng(0)
    annos = [
        dict(frame_dir=f'a{i:02d}', label=i % 4, total_frames=T,
             keypoint=rng.uniform(-1, 1, (1, T, 20, 3)).astype(np.float32))
        for i in range(n)
    ]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(train=[a['frame_dir'] for a in annos],
                                    val=[]), annotations=annos), f)


@pytest.mark.parametrize('config', CONFIGS)
def test_amp_trains_every_method(config, tmp_path):
    """Two Runner iterations of the shipped config under ``--amp`` (bf16
    on the CPU): the backbone runs in bf16, every loss is finite, the
    auxiliary losses are non-zero and the parameters change."""
    ann = str(tmp_path / 'ucla.pkl')
    _write_ucla_like(ann)
    args = train_tool.parse_args([
        osp.join(REPO, config), '--amp', '--amp-dtype', 'bfloat16',
        '--no-validate', '--work-dir', str(tmp_path / 'work'),
        '--cfg-options', 'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0', 'log_level=WARNING',
        'train_dataloader.persistent_workers=False'
    ])
    cfg = train_tool.merge_args(Config.fromfile(args.config), args)
    dataset = cfg.train_dataloader.dataset
    while 'ann_file' not in dataset:
        dataset = dataset.dataset
    dataset.ann_file = ann
    # cheaper clips; every auxiliary loss active from the first step on
    # the tiny bank (no start epoch, anchors short of pairs kept)
    for t in dataset.pipeline:
        if 'clip_len' in t:
            t.clip_len = CLIP_LEN
    if 'num_frames' in cfg.model:
        cfg.model.num_frames = CLIP_LEN
    for d in _walk(cfg.model.get('aux_heads', {})):
        if 'start_epoch' in d:
            d.start_epoch = 0
        if 'sampler' in d or d.get('type') in BANK_HEADS:
            d.sampler = dict(d.get('sampler') or {},
                             min_pos_policy='use_available',
                             min_neg_policy='use_available')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    runner = Runner.from_cfg(cfg)
    dtypes = []
    runner.model.backbone.register_forward_hook(
        lambda m, i, out: dtypes.append(
            (out[0] if isinstance(out, tuple) else out).dtype))
    before = {k: v.detach().clone()
              for k, v in runner.model.named_parameters()}
    runner.train()
    assert isinstance(runner.optim_wrapper, BF16AmpOptimWrapper)
    assert runner.iter == 2 and dtypes[-1] == torch.bfloat16
    scalars = runner.message_hub.log_scalars
    losses = {k: scalars[k].current() for k in scalars
              if k.startswith('train/loss')}
    assert 'train/loss_cls' in losses
    for name, value in losses.items():
        assert math.isfinite(value), f'{config}: {name} = {value}'
    aux = [k for k in losses if k not in ('train/loss', 'train/loss_cls')]
    assert all(losses[k] != 0 for k in aux), (config, losses)
    assert any(not torch.equal(v, before[k])
               for k, v in runner.model.named_parameters())
