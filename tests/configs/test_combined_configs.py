"""The combined methods (CACL + FR-Head + CSRE and the pairs, configs
``<methods>_ctrgcn_<stream>.py``): each config is its baseline plus the
heads of the single-method configs and nothing else; a combined model trains
a step with every auxiliary loss finite and non-zero and gradient into every
head; under one seed it starts from the baseline's weights; its checkpoint
loads into ``ctrgcn_<stream>.py`` and gives the same logits."""
import copy
import functools
import itertools
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import set_random_seed

from mmskelcl.apis import init_recognizer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASETS = ('finegym', 'ntu60_xsub', 'nwucla')
COMBOS = ('cacl_frhead_csre', 'cacl_frhead', 'cacl_csre', 'frhead_csre')
STREAMS = ('j', 'b', 'jm', 'bm')
#: method -> (aux_heads key, the single-method config prefix)
HEADS = dict(cacl='graph', frhead='fr', csre='csre')
HEAD_VARS = {'cacl', 'skeletongcl', 'frhead_stages', 'frhead_v0',
             'frhead_v1', 'csre'}


@functools.lru_cache(maxsize=None)
def _load(dataset, name):
    return Config.fromfile(osp.join(REPO, 'configs', dataset, f'{name}.py'))


def _cfg(dataset, name):
    return copy.deepcopy(_load(dataset, name)).to_dict()


def _single_head(dataset, method, stream):
    """The head of the single-method config (FineGym has no CSRE config:
    the shared default of configs/_base_/models/aux_heads.py)."""
    if dataset == 'finegym' and method == 'csre':
        return _cfg('ntu60_xsub', f'csre_ctrgcn_{stream}')['model'][
            'aux_heads']['csre']
    return _cfg(dataset, f'{method}_ctrgcn_{stream}')['model']['aux_heads'][
        HEADS[method]]


@pytest.mark.parametrize('dataset,combo,stream',
                         list(itertools.product(DATASETS, COMBOS, STREAMS)))
def test_combined_config_is_the_baseline_plus_the_single_heads(
        dataset, combo, stream):
    cfg = _cfg(dataset, f'{combo}_ctrgcn_{stream}')
    base = _cfg(dataset, f'ctrgcn_{stream}')
    model, base_model = cfg.pop('model'), base.pop('model')
    assert model.pop('type') == 'AuxRecognizerGCN'
    base_model.pop('type')
    heads = model.pop('aux_heads')
    methods = combo.split('_')
    assert list(heads) == [HEADS[m] for m in methods]
    for m in methods:  # each head exactly as in its own method's config
        assert heads[HEADS[m]] == _single_head(dataset, m, stream), m
    if dataset == 'finegym' and 'frhead' in methods:
        assert heads['fr']['cfr']['version'] == 'V1'
    elif 'frhead' in methods:
        assert heads['fr']['cfr']['version'] == 'V0'
    assert model.pop('num_frames') == cfg['clip_len']
    assert model == base_model
    assert cfg.pop('custom_hooks') == [dict(type='MemoryBankHook')]
    if dataset == 'nwucla':  # a bank slot per repeated copy, as released
        ds, base_ds = (cfg['train_dataloader']['dataset'],
                       base['train_dataloader']['dataset'])
        assert (ds.pop('type'), base_ds.pop('type')) == (
            'IndexedRepeatDataset', 'RepeatDataset')
        assert ds.pop('index_per_copy') is True
    for var in HEAD_VARS:
        cfg.pop(var, None)
    assert cfg == base


def _batch(cfg, n=8, seed=0):
    """``n`` clips of ``n // 2`` classes (two each, so every anchor has a
    positive among its batch-mates) and their data samples."""
    g = torch.Generator().manual_seed(seed)
    bb = cfg.model.backbone
    joints = {'coco': 17, 'nturgb+d': 25, 'nwucla': 20}[bb.graph_cfg.layout]
    x = torch.randn(n, 1, bb.num_person, cfg.clip_len, joints,
                    bb.get('in_channels', 3), generator=g)
    samples = []
    for i in range(n):
        ds = ActionDataSample().set_gt_label(i // 2)
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
    return x, samples


def _small_banks(cfg):
    """Sampler counts that an 8-clip bank meets (the papers' 128 / 512 need
    a full training set); everything else as configured."""
    for key in ('graph', 'csre'):
        if key in cfg.model.aux_heads:
            cfg.model.aux_heads[key]['sampler'] = dict(num_pos=1, num_neg=4)
    return cfg


@pytest.mark.parametrize('combo', [COMBOS[0]] + [
    pytest.param(c, marks=pytest.mark.slow) for c in COMBOS[1:]])
def test_combined_model_trains_a_step_with_every_head(combo):
    MessageHub.get_current_instance().update_info('epoch', 0)
    cfg = _small_banks(copy.deepcopy(_load('nwucla', f'{combo}_ctrgcn_j')))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for bank in (m for m in model.modules()
                 if type(m).__name__ == 'MemoryBank'):
        bank.resize(8)
    x, samples = _batch(cfg)
    losses = model.loss(x, samples)
    expected = {'loss_cls'}
    if 'cacl' in combo:
        expected.add('loss_contrast')
    if 'frhead' in combo:
        expected |= {f'loss_cfr_block{i}' for i in (1, 5, 8, 10)}
    if 'csre' in combo:
        expected |= {'loss_csre_spatial', 'loss_csre_temporal'}
    names = {k for k in losses if k.startswith('loss')}
    assert names == expected  # side by side, none dropped or renamed
    for k in names:
        assert torch.isfinite(losses[k]) and losses[k].item() != 0, k
    total = sum(losses[k] for k in names)
    total.backward()
    for name, head in model.aux_heads.items():
        params = [(n, p) for n, p in head.named_parameters()
                  if p.requires_grad]
        assert params, name
        for n, p in params:
            assert p.grad is not None and torch.isfinite(p.grad).all(), \
                f'{name}.{n}'
        assert any(p.grad.abs().sum() > 0 for _, p in params), name


def _initial_state(dataset, name, seed=0):
    cfg = _load(dataset, name)
    set_random_seed(seed)  # what the Runner does before building the model
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    after = torch.rand(4)  # the next draws of the training run
    state = {k: v for k, v in model.state_dict().items()
             if k.startswith(('backbone.', 'cls_head.'))}
    return state, after


@pytest.mark.parametrize('dataset,combo', [
    ('nwucla', 'cacl_frhead_csre'), ('finegym', 'cacl_frhead_csre'),
    ('nwucla', 'frhead_csre')])
def test_combined_and_baseline_start_identical(dataset, combo):
    base, base_next = _initial_state(dataset, 'ctrgcn_j')
    comb, comb_next = _initial_state(dataset, f'{combo}_ctrgcn_j')
    assert base.keys() == comb.keys()
    for k in base:
        assert torch.equal(base[k], comb[k]), k
    assert torch.equal(base_next, comb_next)
    other, _ = _initial_state(dataset, 'ctrgcn_j', seed=1)
    assert not torch.equal(other['cls_head.fc.weight'],
                           base['cls_head.fc.weight'])


def test_combined_checkpoint_loads_into_the_baseline(tmp_path):
    """After a training step (weights and BN statistics moved), the saved
    checkpoint holds the heads and banks; the baseline config loads it
    (training-only entries dropped, nothing else missing or extra) and
    gives the combined model's logits."""
    MessageHub.get_current_instance().update_info('epoch', 0)
    cfg = _small_banks(copy.deepcopy(_load('nwucla',
                                           'cacl_frhead_csre_ctrgcn_j')))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for bank in (m for m in model.modules()
                 if type(m).__name__ == 'MemoryBank'):
        bank.resize(8)
    x, samples = _batch(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = model.loss(x, samples)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    opt.step()
    state = model.state_dict()
    assert any(k.startswith('aux_heads.csre.') for k in state)
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    plain = init_recognizer(osp.join(REPO, 'configs', 'nwucla',
                                     'ctrgcn_j.py'), path)
    assert type(plain).__name__ == 'RecognizerGCN'
    model.eval()
    probe, _ = _batch(cfg, n=3, seed=1)
    with torch.no_grad():
        want = model(probe, mode='tensor', stage='head')
        got = plain(probe, mode='tensor', stage='head')
    assert want.shape == (3, 10)  # logits of the 10 NW-UCLA classes
    assert torch.allclose(want, got, atol=0, rtol=0)
    # and the weights did move: a freshly initialised baseline differs
    fresh = init_recognizer(osp.join(REPO, 'configs', 'nwucla',
                                     'ctrgcn_j.py'))
    with torch.no_grad():
        other = fresh(probe, mode='tensor', stage='head')
    assert not torch.allclose(other, want)
