"""SkeAttnCLR under the real launcher: ``torchrun --nproc_per_node 2
tools/train.py CONFIG --launcher pytorch`` on CPU (gloo) pretrains the NTU
recipe (``configs/_base_/skeattnclr_stgcn_pretrain.py``, its runtime with
``SyncBuffersHook`` included) at toy size: a 4-stage ST-GCN of 8 base
channels, a 16-channel neck, 8-d embeddings, 3 clips per rank (global
batch 6) and a queue of 16 keys (not a multiple of 6: the third step wraps
around), 2 epochs of 2 steps. Every rank dumps its full state before
training and after every step (``_rank_dump.RankStateDumpHook``) and the
inputs of its steps (``_rank_batches.RankBatchDumpHook``).

Checked:

* (a) after every step both ranks hold bit-identical query encoder, key
  encoder, neck, predictors and queue (feats and pointer); only the BN
  running statistics differ within an epoch (each rank normalises its own
  batch, no SyncBN on CPU), and after training, i.e. after the epoch's
  ``SyncBuffersHook``, everything agrees;
* (b) the queue pointer advances by the global batch (2 x 3) per step,
  modulo 16, and each step overwrites exactly those 6 slots, wrapping from
  the last slot to the first;
* (c) the 6 rows a step writes are the keys of rank 0's clips followed by
  rank 1's, recomputed here from the step's inputs and the dumped key
  encoder: the queue is all-gathered, in rank order;
* (d) the key encoder follows ``k <- m k + (1 - m) q`` after every optimizer
  step (``m`` the cosine schedule from 0.9), starting from the query
  encoder, and ends different from both its start and the query encoder.

Like the other launches this runs under ``make test-dist``
(``MMSKELCL_TORCHRUN=1``) and is reported as skipped otherwise.
"""
import os
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config

from mmskelcl.engine import momentum_at
from mmskelcl.models.utils.skeleton_mix import convert_stream
from test_skeattnclr_runner import _write_pickle
from test_torchrun_cpu import REPO, WORLD, _launch, _load, _wait

PER_RANK = 3  # clips per rank and step: global batch 6
GLOBAL = WORLD * PER_RANK
NUM_TRAIN = 12  # _write_pickle's training split
EPOCHS = 2
ITERS_PER_EPOCH = NUM_TRAIN // GLOBAL
ITERS = EPOCHS * ITERS_PER_EPOCH
QUEUE_LEN = 16  # not a multiple of GLOBAL: step 3 writes 12..15, 0, 1
MOMENTUM = 0.9
BN_STATS = ('running_mean', 'running_var')
BN_BUFFERS = BN_STATS + ('num_batches_tracked', )
KEY_PAIRS = (('backbone_k.', 'backbone.'), ('neck_k.', 'neck.'))

pytestmark = [
    pytest.mark.skipif(
        not dist.is_available() or not dist.is_gloo_available(),
        reason='needs torch.distributed with gloo'),
    pytest.mark.skipif(
        os.environ.get('MMSKELCL_TORCHRUN') != '1',
        reason='torchrun launch of 2 SkeAttnCLR processes (~20 CPU-s): run '
        '`make test-dist` (MMSKELCL_TORCHRUN=1), as .ci/run does'),
]


def _cfg(ann_file: str, work_dir: str, dump_dir: str) -> Config:
    """The NTU pretraining recipe at toy size on the tiny 3D set."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/skeattnclr_stgcn_pretrain.py'))
    cfg.merge_from_dict(dict(model=dict(
        backbone=dict(base_channels=8, num_stages=4, inflate_stages=[3],
                      down_stages=[2, 3], tcn_dropout=0.),
        neck=dict(in_channels=16, num_heads=4,
                  projector=dict(in_channels=16, hid_channels=16,
                                 out_channels=8)),
        predictor=dict(in_channels=8, hid_channels=16, out_channels=8),
        mix=dict(temporal_units=(1, 2)),
        queue_len=QUEUE_LEN, feat_dim=8)))
    loader = cfg.train_dataloader
    loader.update(batch_size=PER_RANK, num_workers=0,
                  persistent_workers=False)
    loader.dataset.update(ann_file=ann_file, split='train')
    for step in loader.dataset.pipeline:
        if step['type'] == 'CropResizeFrames':
            step['clip_len'] = 16
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=EPOCHS)
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = 1
    cfg.custom_imports.imports = list(cfg.custom_imports.imports) + [
        '_rank_dump', '_rank_batches']
    cfg.custom_hooks = [
        dict(type='MomentumUpdateHook', momentum=MOMENTUM,
             schedule='cosine'),
        dict(type='RankStateDumpHook', out_dir=dump_dir),
        dict(type='RankBatchDumpHook', out_dir=dump_dir)]
    return cfg


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('skeattnclr_torchrun')
    ann_file = str(tmp / 'tiny3d.pkl')
    _write_pickle(ann_file)
    dump = tmp / 'dump'
    dump.mkdir()
    cfg = _cfg(ann_file, str(tmp / 'work'), str(dump))
    cfg_file = str(tmp / 'skeattnclr.py')
    cfg.dump(cfg_file)
    log = str(tmp / 'skeattnclr.log')
    _wait(_launch(cfg_file, log), log)
    ranks = [_load(str(dump / f'rank{r}.pth')) for r in range(WORLD)]
    inputs = [_load(str(dump / f'batches{r}.pth'))['inputs']
              for r in range(WORLD)]
    return dict(cfg=Config.fromfile(cfg_file), ranks=ranks, inputs=inputs)


def test_ranks_agree_after_every_step(run):
    """(a) Weights, key encoder and queue bit-identical at every step; BN
    statistics differ within an epoch and agree after the epoch's sync."""
    ranks = run['ranks']
    assert [d['world_size'] for d in ranks] == [WORLD] * WORLD
    assert all(d['wrapper'] == 'MMDistributedDataParallel' for d in ranks)
    assert [d['iters'] for d in ranks] == [ITERS] * WORLD
    assert [len(d['steps']) for d in ranks] == [ITERS] * WORLD
    s0, s1 = ranks[0]['state'], ranks[1]['state']
    assert set(s0) == set(s1)
    for prefix in ('backbone.', 'backbone_k.', 'neck.', 'neck_k.',
                   'predictor_g.', 'predictor_s.', 'predictor_ns.'):
        assert any(k.startswith(prefix) for k in s0), prefix
    assert {'queue.feats', 'queue.ptr'} <= set(s0)
    for k in s0:
        assert torch.equal(s0[k], s1[k]), f'ranks differ at the end: {k}'
    bn_differs = False
    for i, (a, b) in enumerate(zip(ranks[0]['steps'], ranks[1]['steps'])):
        for k in a:
            if k.endswith(BN_STATS):
                bn_differs |= not torch.equal(a[k], b[k])
            else:
                assert torch.equal(a[k], b[k]), f'step {i}: ranks differ: {k}'
    # each rank ran its own half of the batch (DistributedSampler)
    assert bn_differs
    for i, (x0, x1) in enumerate(zip(*run['inputs'])):
        assert x0.shape == x1.shape == (PER_RANK, 2, 2, 16, 25, 3)
        assert not torch.equal(x0, x1), i


def test_queue_pointer_wraps_by_the_global_batch(run):
    """(b) ptr_i = 6 (i + 1) mod 16 and only the 6 slots from the previous
    pointer (modulo 16) change; step 2 writes 12..15 then 0, 1."""
    dump = run['ranks'][0]
    prev = dump['init']
    assert int(prev['queue.ptr']) == 0
    wrapped = False
    for i, state in enumerate(dump['steps']):
        start = int(prev['queue.ptr'])
        assert int(state['queue.ptr']) == GLOBAL * (i + 1) % QUEUE_LEN
        slots = (torch.arange(GLOBAL) + start) % QUEUE_LEN
        wrapped |= bool((slots == 0).any() and (slots == QUEUE_LEN - 1).any())
        kept = torch.ones(QUEUE_LEN, dtype=torch.bool)
        kept[slots] = False
        assert torch.equal(state['queue.feats'][kept],
                           prev['queue.feats'][kept]), i
        assert not (state['queue.feats'][slots] ==
                    prev['queue.feats'][slots]).all(dim=1).any(), i
        prev = state
    assert wrapped


def _keys(cfg: Config, state: dict, inputs: torch.Tensor) -> torch.Tensor:
    """``norm(P_k(GAP(E_k(x_k))))`` of one rank's batch, the key encoder in
    train mode (batch statistics), as in the training step."""
    model = MODELS.build(cfg.model)
    model.load_state_dict(state)
    model.train()
    x_k = convert_stream(inputs[:, 1], model.stream, model.layout)
    with torch.no_grad():
        return F.normalize(model.neck_k(model.backbone_k(x_k)), dim=1)


def test_queue_rows_are_both_ranks_keys(run):
    """(c) Each step writes rank 0's keys, then rank 1's, at the slots from
    the previous pointer: all-gathered, in rank order."""
    cfg, dump = run['cfg'], run['ranks'][0]
    states = [dump['init']] + dump['steps']
    for i in range(ITERS):
        # the key encoder of step i is the one after step i - 1 (the
        # epoch-end buffer sync does not touch parameters, and train-mode
        # BN does not read its statistics)
        keys = torch.cat([
            _keys(cfg, run['ranks'][r]['steps'][i - 1] if i else
                  run['ranks'][r]['init'], run['inputs'][r][i])
            for r in range(WORLD)])
        assert keys.shape == (GLOBAL, 8)
        # 6 distinct unit rows, so a missing or repeated rank would show
        assert torch.cdist(keys, keys)[~torch.eye(GLOBAL, dtype=bool)].min() \
            > 1e-3
        start = int(states[i]['queue.ptr'])
        slots = (torch.arange(GLOBAL) + start) % QUEUE_LEN
        rows = states[i + 1]['queue.feats'][slots]
        # the recomputation runs in this process (its own thread count) and
        # train-mode BN over 6 rows amplifies float rounding: up to ~2e-6
        # seen. 1e-4 is still 10x below the smallest gap between two keys,
        # and every row must be nearest to its own key (order included).
        torch.testing.assert_close(rows, keys, rtol=0, atol=1e-4,
                                   msg=f'step {i}')
        assert torch.equal(torch.cdist(rows, keys).argmin(1),
                           torch.arange(GLOBAL)), i


def test_key_encoder_follows_the_ema(run):
    """(d) k_i = m_i k_{i-1} + (1 - m_i) q_i for every key parameter after
    every optimizer step (m_i the cosine schedule from 0.9), k_{-1} the
    key encoder as initialised: drawn independently of the query by the
    released init (init_scheme='library' would copy it). (The BN statistics are not checked: the key encoder's own train-mode
    forward moves them before the average.)"""
    dump = run['ranks'][0]
    init, steps = dump['init'], dump['steps']
    params = [(k, q + k[len(kp):]) for k in init for kp, q in KEY_PAIRS
              if k.startswith(kp) and not k.endswith(BN_BUFFERS)]
    assert len(params) > 20
    assert any(not torch.equal(init[k], init[q]) for k, q in params)
    prev = init
    for i, state in enumerate(steps):
        m = momentum_at(MOMENTUM, i, ITERS)
        for k, q in params:
            torch.testing.assert_close(
                state[k], m * prev[k] + (1 - m) * state[q],
                msg=f'step {i} {k}')
        prev = state
    final = dump['state']
    assert any(not torch.equal(final[k], final[q]) for k, q in params)
    assert any(not torch.equal(final[k], init[k]) for k, q in params)
    assert all(torch.equal(final[k], steps[-1][k]) for k, _ in params)
