"""Distributed training on CPU through the real launcher.

``torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch``
trains the CACL demo config and an FR-Head config (the demo CTR-GCN plus
FR-Head) on a tiny generated demo set, with gloo. Every rank dumps its full
model state (``_rank_dump.RankStateDumpHook``: mmengine checkpoints only
rank 0). Checked:

* the run is real DDP (two ranks, ``MMDistributedDataParallel``), and both
  ranks end with identical weights, banks, prototypes and BN statistics;
* every rank's bank holds the rows of *both* ranks (all 12 training clips),
  with their labels (README, "CACL and SkeletonGCL");
* the documented single-process semantics: a single process that sees the
  global batch (2 x 3 clips per step) ends with the same weights, bank and
  prototypes, up to float summation order. For this comparison the model is
  made per-sample (BatchNorm kept in eval mode: without SyncBN, which does
  not run on CPU, each rank normalises with its own batch), the frames are
  sampled deterministically, and the auxiliary losses are weighted 0: their
  *state* (bank, prototypes) is compared, while their gradients have
  documented per-rank parts (the sampler's random draws, FR-Head's FN/FP
  centres and local prototype gradient).

And, in process, what ``mmskelcl.compat.cpu_dist`` changes and what not.

The launches take about 100 CPU-seconds (eight trained processes, each
importing the stack), so they run under ``make test-dist`` (which
``.ci/run`` runs after ``make test``), i.e. with ``MMSKELCL_TORCHRUN=1``;
without it they are reported as skipped with that reason. The in-process
tests of the fix always run.
"""
import copy
import os
import os.path as osp
import pickle
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.runner import Runner

from mmskelcl.compat import cpu_dist
from mmskelcl.utils import allocator
from mmskelcl.utils.demo_data.dataset import generate_demo_annotations

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
# registers the dump hooks in this process too (a Config built in Python
# does not run its custom_imports); torchrun's processes import it through
# custom_imports
import _rank_dump  # noqa: E402,F401
WORLD = 2
PER_RANK = 3  # clips per rank and step: global batch 6
EPOCHS = 2  # 12 training clips: 2 steps per epoch, 4 in all
# The single-process comparison trains one epoch: with BatchNorm frozen the
# network is sensitive enough that float-order noise (~1e-7) grows to ~1e-3
# relative by the fourth step (measured: the gradients of both runs at the
# same state agree to ~1e-5), which would hide a real difference.
EPOCHS_PER_SAMPLE = 1
NUM_TRAIN = 12
LAUNCH_TIMEOUT = 300

# FR-Head on the demo CTR-GCN (base_channels 32, 32 frames, COCO-17): the
# FineGym template's head with the channels of the half-width backbone.
FR_HEAD = dict(
    type='FRHead',
    num_classes=8,
    num_frames=32,
    num_joints=17,
    stages=dict(
        block1=dict(in_channels=32, temporal_stride=1, weight=0.1),
        block5=dict(in_channels=64, temporal_stride=2, weight=0.2),
        block8=dict(in_channels=128, temporal_stride=4, weight=0.5),
        block10=dict(in_channels=128, temporal_stride=4, weight=1.0)),
    loss_weight=0.1,
    cfr=dict(version='V1'))

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(),
    reason='needs torch.distributed with gloo')
launches = pytest.mark.skipif(
    os.environ.get('MMSKELCL_TORCHRUN') != '1',
    reason='torchrun launches (~100 CPU-s): run `make test-dist` '
    '(MMSKELCL_TORCHRUN=1), as .ci/run does')


# ---------------------------------------------------------------- configs
def _write_demo_set(path: str) -> list:
    """4 classes x 4 clips, 4 performers, one held out: 12 train, 4 val.
    Returns the labels by training index."""
    data = generate_demo_annotations(seed=0, num_pairs=2, clips_per_class=4,
                                     num_subjects=4, val_subjects=1,
                                     min_frames=30, max_frames=40)
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    by_dir = {a['frame_dir']: a['label'] for a in data['annotations']}
    return [by_dir[d] for d in data['split']['train']]


def _method_cfg(method: str) -> Config:
    if method == 'cacl':
        return Config.fromfile(
            osp.join(REPO, 'configs/demo/cacl_ctrgcn_j.py'))
    cfg = Config.fromfile(osp.join(REPO, 'configs/demo/ctrgcn_j.py'))
    cfg.merge_from_dict(dict(model=dict(
        type='AuxRecognizerGCN', aux_heads=dict(fr=copy.deepcopy(FR_HEAD)))))
    return cfg


def _tiny_cfg(method: str, ann_file: str, work_dir: str, dump_dir: str,
              batch_size: int, per_sample: bool) -> Config:
    """The method's config on the tiny set, ``EPOCHS`` epochs, no
    validation, plus the dump hook (and, for ``per_sample``, the settings
    of the single-process comparison, see the module docstring)."""
    cfg = _method_cfg(method)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].dataset.ann_file = ann_file
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_cfg.max_epochs = EPOCHS_PER_SAMPLE if per_sample else EPOCHS
    cfg.train_cfg.val_interval = EPOCHS + 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = 1
    cfg.custom_imports.imports = list(cfg.custom_imports.imports) + [
        '_rank_dump']
    hooks = list(cfg.get('custom_hooks', []))
    hooks.append(dict(type='RankStateDumpHook', out_dir=dump_dir))
    if per_sample:
        hooks.append(
            dict(type='FrozenBatchNormHook', batch_size=WORLD * PER_RANK))
        cfg.train_dataloader.sampler.shuffle = False
        # frozen BN does not re-normalise as the weights move: small steps
        cfg.optim_wrapper.optimizer.lr = 0.002
        # a zero classifier predicts class 0 for every clip at the first
        # step, so FR-Head has true positives (prototype updates) to
        # compare, whatever the random initialisation predicts
        cfg.model.cls_head.init_cfg = dict(type='Constant', layer='Linear',
                                           val=0.)
        for step in cfg.train_dataloader.dataset.pipeline:
            if step['type'] == 'UniformSampleFrames':
                step['test_mode'] = True  # fixed frames, no RNG
        for head in cfg.model.aux_heads.values():
            if head['type'] == 'GraphContrastHead':
                head.setdefault('loss', {})['loss_weight'] = 0.
            else:
                head['loss_weight'] = 0.
    cfg.custom_hooks = hooks
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _launch(config_file: str, log_file: str,
            launches: int = 1) -> subprocess.Popen:
    """``torchrun`` two CPU processes on ``tools/train.py``; ``launches``
    such launches run at once, so each rank gets its share of the cores
    (at least one thread: 2 launches of 2 ranks on 2 cores run 1 each)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    threads = allocator.share_threads(WORLD * launches)
    env = allocator.child_env(threads, base=env)
    env['CUDA_VISIBLE_DEVICES'] = ''  # the CPU path, also on a GPU host
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
        '--nproc_per_node', str(WORLD), '--master_addr', '127.0.0.1',
        '--master_port', str(_free_port()),
        osp.join(REPO, 'tools', 'train.py'), config_file, '--launcher',
        'pytorch'
    ]
    log = open(log_file, 'w')
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    proc.log = log
    proc.threads = threads
    return proc


def _wait(proc: subprocess.Popen, log_file: str) -> None:
    try:
        rc = proc.wait(timeout=LAUNCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = 'timeout'
    finally:
        proc.log.close()
    with open(log_file) as f:
        text = f.read()
    if rc != 0:
        pytest.fail(f'torchrun exited with {rc}:\n{text[-6000:]}')
    # each rank logs its allocator and threads (tools/train.py)
    want = f'; torch threads: {proc.threads} of'
    lines = [ln for ln in text.splitlines() if 'allocator: ' in ln]
    assert lines and all(want in ln for ln in lines), lines


def _load(path: str) -> dict:
    assert osp.exists(path), f'no state dump {path}'
    return torch.load(path, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Four torchrun launches (CACL and FR-Head, default and per-sample
    settings), two at a time, and the two single-process references."""
    tmp = tmp_path_factory.mktemp('torchrun_cpu')
    ann_file = str(tmp / 'demo_tiny.pkl')
    labels = _write_demo_set(ann_file)
    jobs, out = [], dict(labels=labels)
    for method in ('cacl', 'frhead'):
        for regime in ('default', 'per_sample'):
            name = f'{method}_{regime}'
            dump = tmp / name / 'dump'
            dump.mkdir(parents=True)
            cfg = _tiny_cfg(method, ann_file, str(tmp / name / 'work'),
                            str(dump), PER_RANK, regime == 'per_sample')
            cfg_file = str(tmp / f'{name}.py')
            cfg.dump(cfg_file)
            jobs.append((name, cfg_file, str(tmp / f'{name}.log'), dump))
    for pair in (jobs[:2], jobs[2:]):
        procs = [_launch(cfg_file, log, len(pair))
                 for _, cfg_file, log, _ in pair]
        for proc, (_, _, log, _) in zip(procs, pair):
            _wait(proc, log)
    for name, _, _, dump in jobs:
        out[name] = [_load(str(dump / f'rank{r}.pth')) for r in range(WORLD)]

    # single process, global batch, same settings (in this process),
    # starting from the distributed run's initial weights (so that the
    # comparison does not depend on the order of random draws at build)
    for method in ('cacl', 'frhead'):
        dump = tmp / f'{method}_single' / 'dump'
        dump.mkdir(parents=True)
        cfg = _tiny_cfg(method, ann_file, str(tmp / f'{method}_single'),
                        str(dump), WORLD * PER_RANK, per_sample=True)
        cfg.log_level = 'WARNING'
        init_ckpt = str(tmp / f'{method}_init.pth')
        torch.save(dict(state_dict=out[f'{method}_per_sample'][0]['init']),
                   init_ckpt)
        cfg.load_from = init_ckpt
        # through a dumped file like the torchrun runs: mmengine's dump
        # sorts dict keys, and FR-Head builds its stages (and draws their
        # initial weights) in the order of its `stages` dict
        cfg_file = str(tmp / f'{method}_single.py')
        cfg.dump(cfg_file)
        Runner.from_cfg(Config.fromfile(cfg_file)).train()
        out[f'{method}_single'] = _load(str(dump / 'rank0.pth'))
    return out


def _assert_ranks_identical(dumps, epochs):
    assert [d['world_size'] for d in dumps] == [WORLD] * WORLD
    assert all(d['wrapper'] == 'MMDistributedDataParallel' for d in dumps)
    assert all(d['iters'] == epochs * NUM_TRAIN // (WORLD * PER_RANK)
               for d in dumps)
    s0, s1 = dumps[0]['state'], dumps[1]['state']
    assert set(s0) == set(s1)
    for k in s0:
        assert torch.equal(s0[k], s1[k]), f'ranks differ at {k}'


def _bank(state):
    pre = next(k[:-len('feats')] for k in state
               if k.endswith('bank.feats'))
    return {k: state[pre + k] for k in ('feats', 'labels', 'valid')}


def _prototypes(state):
    keys = sorted(k for k in state if k.endswith('.prototypes'))
    assert keys, 'no CFR prototypes in the state'
    return {k: (state[k], state[k[:-len('prototypes')] + 'proto_updates'])
            for k in keys}


@launches
# -------------------------------------------------------------- launcher
@launches
@pytest.mark.parametrize('method', ['cacl', 'frhead'])
def test_ranks_end_identical(runs, method):
    """Default settings (BN in train mode, random frames and sampler
    draws, the auxiliary losses on): all state agrees across the ranks."""
    _assert_ranks_identical(runs[f'{method}_default'], EPOCHS)


@launches
def test_training_moved_the_state(runs):
    """The compared state is trained, not two copies of the (seeded)
    initialisation: weights, banks and prototypes all moved."""
    for name in ('cacl_default', 'cacl_per_sample', 'frhead_default',
                 'frhead_per_sample'):
        dump = runs[name][0]
        init, final = dump['init'], dump['state']
        for suffix in ('cls_head.fc.weight', 'backbone.data_bn.weight',
                       'bank.feats', '.prototypes'):
            keys = [k for k in final if k.endswith(suffix)]
            if suffix == 'bank.feats' and name.startswith('frhead'):
                continue
            if suffix == '.prototypes' and name.startswith('cacl'):
                continue
            assert keys, (name, suffix)
            for k in keys:
                assert not torch.equal(init[k], final[k]), (name, k)


@launches
def test_cacl_bank_holds_both_ranks_rows(runs):
    """Each rank trained on 6 of the 12 clips; its bank holds all 12, with
    their labels, and unit-norm embeddings."""
    labels = torch.tensor(runs['labels'])
    for dump in runs['cacl_default']:
        bank = _bank(dump['state'])
        assert bank['valid'].shape == (NUM_TRAIN, )
        assert bool(bank['valid'].all())
        assert torch.equal(bank['labels'], labels)
        torch.testing.assert_close(bank['feats'].norm(dim=1),
                                   torch.ones(NUM_TRAIN))


@launches
def test_frhead_prototypes_were_updated(runs):
    """Some prototype received EMA updates, identically on both ranks."""
    for dump in runs['frhead_default'] + runs['frhead_per_sample']:
        updates = sum(u.sum() for _, u in _prototypes(dump['state']).values())
        assert updates > 0


@launches
# ------------------------------------------------ single-process semantics
@launches
@pytest.mark.parametrize('method', ['cacl', 'frhead'])
def test_distributed_equals_single_process_global_batch(runs, method):
    """After each step (weights, bank, prototypes) and at the end (after
    the epoch's SyncBuffersHook), the two ranks equal one process that saw
    the global batch."""
    dumps = runs[f'{method}_per_sample']
    _assert_ranks_identical(dumps, EPOCHS_PER_SAMPLE)
    single = runs[f'{method}_single']
    assert single['world_size'] == 1
    assert single['wrapper'] != 'MMDistributedDataParallel'
    assert single['iters'] == dumps[0]['iters'] == len(single['steps'])
    pairs = list(zip(dumps[0]['steps'], single['steps']))
    pairs.append((dumps[0]['state'], single['state']))
    for step, (dist_state, ref) in enumerate(pairs):
        assert set(dist_state) == set(ref)
        for k, v in ref.items():
            if v.is_floating_point():
                torch.testing.assert_close(dist_state[k], v, rtol=1e-4,
                                           atol=1e-5, msg=f'step {step} {k}')
            else:
                assert torch.equal(dist_state[k], v), f'step {step} {k}'
    ref = single['state']
    if method == 'cacl':
        bank = _bank(ref)
        assert bool(bank['valid'].all())
        assert torch.equal(bank['labels'], torch.tensor(runs['labels']))
    else:
        for key, (_, updates) in _prototypes(ref).items():
            assert updates.sum() > 0, key


# ------------------------------------------------------- the fix itself
def _cfg(launcher='pytorch', **kw):
    return Config(dict(launcher=launcher, env_cfg=dict(
        mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
        dist_cfg=dict(backend='nccl')), **kw))


def test_backend_mapping():
    assert cpu_dist.cpu_dist_backend('nccl') == 'gloo'
    assert cpu_dist.cpu_dist_backend('gloo') == 'gloo'
    assert cpu_dist.cpu_dist_backend('mpi') == 'mpi'
    with pytest.raises(ValueError, match='cannot run without CUDA'):
        cpu_dist.cpu_dist_backend('hccl')


def test_no_launcher_or_cuda_leaves_the_config_alone(monkeypatch):
    cfg = _cfg(launcher='none')
    before = copy.deepcopy(cfg.to_dict())
    assert not cpu_dist.setup_cpu_distributed(cfg)
    assert cfg.to_dict() == before
    # a GPU machine: mmengine's own path, untouched
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg()
    before = copy.deepcopy(cfg.to_dict())
    assert not cpu_dist.setup_cpu_distributed(cfg)
    assert cfg.to_dict() == before
    assert not dist.is_initialized()


@pytest.fixture()
def torchrun_env(monkeypatch):
    """A one-process ``torchrun`` environment on a machine without CUDA
    (``is_available`` is patched on a GPU host); the process group and the
    global settings it changes are undone afterwards."""
    assert not dist.is_initialized()
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for k, v in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                     MASTER_ADDR='127.0.0.1',
                     MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(k, v)
    for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        monkeypatch.setenv(k, os.environ.get(k, '2'))
    method = mp.get_start_method(allow_none=True)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    mp.set_start_method(method, force=True)


def test_mmengine_alone_fails_without_cuda(torchrun_env):
    """The defect this works around (so the fix can be dropped once
    mmengine handles CPU launches). Only meaningful where CUDA really is
    absent: on a GPU host ``torch.cuda.set_device`` works."""
    from mmengine.dist import init_dist
    if torch.cuda.device_count() > 0:
        pytest.skip('CUDA devices present: set_device does not fail here')
    with pytest.raises((RuntimeError, AssertionError, AttributeError)):
        init_dist('pytorch', backend='gloo')
    assert not dist.is_initialized()


def test_setup_starts_gloo_and_cpu_ddp(torchrun_env):
    cfg = _cfg(find_unused_parameters=True)
    assert cpu_dist.setup_cpu_distributed(cfg)
    assert dist.is_initialized() and dist.get_backend() == 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=True, device_ids=None)
    # the wrapper the Runner builds from it accepts a CPU module
    from mmaction.registry import MODEL_WRAPPERS
    from mmengine.model import BaseModel

    class Tiny(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 1)

        def forward(self, *args, **kwargs):
            return self.fc(*args)

    ddp = MODEL_WRAPPERS.build(dict(cfg.model_wrapper_cfg, module=Tiny()))
    assert ddp.device_ids is None
    # explicit GPU ids on a CPU machine are an error, not ignored
    bad = _cfg(model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                                      device_ids=[0]))
    with pytest.raises(ValueError, match='device_ids must be None'):
        cpu_dist.setup_cpu_distributed(bad)
