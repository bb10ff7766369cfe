"""SkeAttnCLR configs (recipe values, streams, checkpoint hand-over) and the
linear protocol end to end: a pretrained query backbone loads alone by
prefix, and a training epoch leaves its weights and BN statistics unchanged
while the classifier learns."""
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DATASETS = {'ntu60_xsub': ('xsub', 60), 'ntu60_xview': ('xview', 60),
            'ntu120_xsub': ('xsub', 120), 'ntu120_xset': ('xset', 120)}
PROTOCOLS = ('pretrain', 'linear', 'linear_paper', 'finetune',
             'finetune_paper', 'semi1', 'semi10')
PKU = {'pkummd1': 'data/pkummd/pkummd1.pkl',
       'pkummd2': 'data/pkummd/pkummd2.pkl'}


def _cfg(ds, stream, protocol):
    return Config.fromfile(osp.join(
        REPO, 'configs', ds, f'skeattnclr_stgcn_{stream}_{protocol}.py'))


def test_all_configs_exist():
    files = glob.glob(osp.join(REPO, 'configs', 'ntu*',
                               'skeattnclr_stgcn_*.py'))
    assert len(files) == len(DATASETS) * 3 * len(PROTOCOLS)


@pytest.mark.parametrize('ds', DATASETS)
@pytest.mark.parametrize('stream', ['j', 'b', 'm'])
def test_pretrain_recipe(ds, stream):
    cfg = _cfg(ds, stream, 'pretrain')
    prot, classes = DATASETS[ds]
    m = cfg.model
    assert m.stream == stream and m.mu == 0.5 and m.temperature == 0.2
    assert m.queue_len == 32768 and m.feat_dim == 128
    assert m.backbone.base_channels == 64 and m.backbone.tcn_dropout == 0.5
    assert (m.neck.num_heads, m.neck.lam) == (8, 2.0)
    assert m.mix.num_parts == (3, 4) and m.mix.temporal_units == (4, 7)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.momentum, opt.weight_decay) == (0.1, 0.9, 1e-4)
    assert cfg.train_cfg.max_epochs == 300 and cfg.train_cfg.val_interval == 10
    assert cfg.param_scheduler[0].milestones == [250]
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.custom_hooks[0] == dict(type='MomentumUpdateHook',
                                       momentum=0.996, schedule='cosine')
    assert cfg.train_dataloader.dataset.split == f'{prot}_train'
    assert cfg.val_dataloader.dataset.split == f'{prot}_val'
    assert cfg.val_cfg.bank_dataloader.dataset.split == f'{prot}_train'
    assert cfg.val_evaluator.ks == (10, 20, 40)
    assert str(classes) in cfg.train_dataloader.dataset.ann_file
    assert 'stream' not in cfg.train_dataloader.dataset  # in-model streams


@pytest.mark.parametrize('ds', DATASETS)
@pytest.mark.parametrize('stream', ['j', 'b', 'm'])
def test_downstream_recipes(ds, stream):
    prot, classes = DATASETS[ds]
    pre = f'work_dirs/{ds}/skeattnclr_stgcn_{stream}_pretrain/epoch_300.pth'
    for protocol in PROTOCOLS[1:]:
        cfg = _cfg(ds, stream, protocol)
        bb = cfg.model.backbone
        assert bb.init_cfg == dict(type='Pretrained', checkpoint=pre,
                                   prefix='backbone.')
        assert cfg.model.cls_head.num_classes == classes
        assert cfg.train_dataloader.dataset.stream == (
            'jm' if stream == 'm' else stream)
        assert cfg.optim_wrapper.optimizer.weight_decay == 0
        linear = protocol.startswith('linear')
        assert bb.frozen_stages == (10 if linear else -1)
        assert bb.norm_eval is True
        split = cfg.train_dataloader.dataset.split
        if protocol.startswith('semi'):
            assert split == f'{prot}_train_{protocol}'
        else:
            assert split == f'{prot}_train'
    assert _cfg(ds, stream, 'linear').optim_wrapper.optimizer.lr == 3.0
    assert _cfg(ds, stream, 'linear').train_cfg.max_epochs == 150
    assert _cfg(ds, stream, 'linear').param_scheduler[0].milestones == [
        60, 100]
    paper = _cfg(ds, stream, 'linear_paper')
    assert paper.train_cfg.max_epochs == 100
    assert paper.param_scheduler[0].milestones == [60]


@pytest.mark.parametrize('ds', sorted(PKU))
@pytest.mark.parametrize('stream', ['j', 'b', 'm'])
def test_pku_finetune_and_semi_recipes(ds, stream):
    """PKU-MMD finetune / semi configs: the release has none for PKU-MMD;
    each takes NTU60 X-Sub's released recipe of the same stream and
    protocol (values against the release: test_skeattnclr_downstream_
    table.py), on the pickle of tools/data/pkummd_to_pkl.py, and the
    subsets named as tools/data/make_semi_splits.py writes them."""
    tool = load_tool('data/make_semi_splits.py')
    pre = f'work_dirs/{ds}/skeattnclr_stgcn_{stream}_pretrain/epoch_300.pth'
    expect = {}
    for protocol, split in (('finetune', 'xsub_train'),
                            ('semi1', tool.subset_name('xsub_train', 0.01)),
                            ('semi10', tool.subset_name('xsub_train', 0.1))):
        ntu = _cfg('ntu60_xsub', stream, protocol)
        expect[protocol] = (ntu.optim_wrapper.optimizer.lr,
                            ntu.param_scheduler[0].milestones, split)
    for protocol, (lr, steps, split) in expect.items():
        cfg = _cfg(ds, stream, protocol)
        bb = cfg.model.backbone
        assert bb.init_cfg == dict(type='Pretrained', checkpoint=pre,
                                   prefix='backbone.')
        assert (bb.frozen_stages, bb.norm_eval) == (-1, True)
        assert cfg.model.cls_head.num_classes == 51
        for loader in ('train_dataloader', 'val_dataloader'):
            data = cfg[loader].dataset
            assert data.ann_file == PKU[ds] and data.num_classes == 51
            assert data.stream == ('jm' if stream == 'm' else stream)
            assert 'pkummd_to_pkl.py' in data.missing_hint
        assert cfg.train_dataloader.dataset.split == split
        assert cfg.val_dataloader.dataset.split == 'xsub_val'
        opt = cfg.optim_wrapper.optimizer
        assert (opt.lr, opt.weight_decay) == (lr, 0)
        assert cfg.param_scheduler[0].milestones == steps
        assert cfg.train_cfg.max_epochs == 150


def test_pretrain_model_builds_at_full_size():
    cfg = _cfg('ntu60_xsub', 'j', 'pretrain')
    model = MODELS.build(cfg.model)
    x = torch.randn(2, 2, 2, 64, 25, 3)
    losses = model.loss(x)
    assert all(torch.isfinite(v) for v in losses.values())
    assert model.queue.feats.shape == (32768, 128)


def _write(path, n=8, T=64):
    rng = np.random.default_rng(0)
    annos = [dict(frame_dir=f's{i}', label=i % 2, total_frames=T,
                  keypoint=rng.normal(size=(1, T, 25, 3)).astype(np.float32))
             for i in range(n)]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(xsub_train=['s0', 's1', 's2', 's3',
                                                's4', 's5'],
                                    xsub_val=['s6', 's7']),
                         annotations=annos), f)


@pytest.mark.parametrize('feat_norm', (None, 'bn'))
def test_linear_probe_keeps_the_pretrained_backbone(tmp_path, feat_norm):
    torch.manual_seed(0)
    small = dict(base_channels=8, num_stages=4, inflate_stages=[3],
                 down_stages=[2, 3])
    pre = _cfg('ntu60_xsub', 'b', 'pretrain').model
    pre.backbone.update(small)
    pre.neck.update(in_channels=16, num_heads=4, projector=dict(
        type='MLP1D', in_channels=16, hid_channels=16, out_channels=8))
    pre.predictor.update(in_channels=8, hid_channels=16, out_channels=8)
    pre.update(queue_len=16, feat_dim=8)
    pretrained = MODELS.build(pre)
    pretrained.train()
    pretrained.loss(torch.randn(4, 2, 2, 64, 25, 3))  # BN stats move
    ckpt = str(tmp_path / 'pre.pth')
    torch.save(dict(state_dict=pretrained.state_dict()), ckpt)

    ann = str(tmp_path / 'tiny.pkl')
    _write(ann)
    cfg = _cfg('ntu60_xsub', 'b', 'linear')
    cfg.model.backbone.update(small, frozen_stages=4)
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    cfg.model.cls_head.in_channels = 16
    cfg.model.cls_head.init_cfg = dict(type='Constant', layer='Linear',
                                       val=0.0, bias=0.0)
    if feat_norm:  # configs/nwucla/skeattnclr_stgcn_j_linear_bn.py's head
        cfg.model.cls_head.update(type='ProbeHead', feat_norm=feat_norm)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(batch_size=3, num_workers=0,
                        persistent_workers=False)
        cfg[key].dataset.ann_file = ann
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    after = runner.model.backbone.state_dict()
    # backbone = the pretrained query backbone, unchanged by the epoch
    for k, v in pretrained.backbone.state_dict().items():
        assert torch.equal(after[k], v), k
    # the BN statistics were the pretrained ones, not fresh ones
    assert not torch.equal(after['data_bn.running_mean'],
                           torch.zeros_like(after['data_bn.running_mean']))
    # the classifier started at zero and learned
    assert runner.model.cls_head.fc.weight.abs().max() > 0
    if feat_norm:  # the probe's own norm trained its statistics
        norm = runner.model.cls_head.norm
        assert norm.num_batches_tracked > 0
        assert not torch.equal(norm.running_var,
                               torch.ones_like(norm.running_var))
    metrics = runner.val_loop.run()
    assert 0 <= metrics['acc/top1'] <= 1
