"""NW-UCLA index bank as released: a slot per repeated copy.

The SkeletonGCL/CACL NW-UCLA feeder has ``len = len(data) * repeat`` and
returns the repeated index, and ``label_all = label * repeat``: the bank has
5 x 1,020 = 5,100 slots. mmengine's ``RepeatDataset`` hands out indices
modulo the wrapped length (1,020 slots). ``IndexedRepeatDataset`` gives each
copy its own ``sample_idx``; ``index_per_copy=False`` keeps the modulo.
"""
import logging
import os.path as osp
import pickle
from collections import Counter

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import RepeatDataset
from mmengine.runner import Runner

from mmaction.registry import DATASETS
from mmskelcl.datasets import IndexedRepeatDataset
from mmskelcl.engine.memory_bank_hook import (MemoryBankHook,
                                              num_sample_indices)
from mmskelcl.models.memory import MemoryBank

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STREAMS = ('j', 'b', 'jm', 'bm')
TIMES = 5


def write_ucla_like(path, per_class=(3, 2, 2), val=2, T=60):
    """NW-UCLA-shaped clips (1 person, 20 joints, xyz), labels grouped."""
    rng = np.random.default_rng(0)
    labels = [c for c, n in enumerate(per_class) for _ in range(n)]
    labels += [0] * val
    annos = [
        dict(frame_dir=f'a{i:03d}', label=lab, total_frames=T,
             keypoint=rng.uniform(-1, 1, (1, T, 20, 3)).astype(np.float32))
        for i, lab in enumerate(labels)
    ]
    n_train = sum(per_class)
    data = dict(split=dict(train=[a['frame_dir'] for a in annos[:n_train]],
                           val=[a['frame_dir'] for a in annos[n_train:]]),
                annotations=annos)
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return labels[:n_train]


def ucla_cfg(method='cacl_ctrgcn', stream='j', ann_file=None, **options):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'nwucla', f'{method}_{stream}.py'))
    if ann_file is not None:
        options.update({
            'train_dataloader.dataset.dataset.ann_file': str(ann_file),
            'val_dataloader.dataset.ann_file': str(ann_file),
            'test_dataloader.dataset.ann_file': str(ann_file),
        })
    cfg.merge_from_dict(options)  # what --cfg-options sets
    return cfg


@pytest.mark.parametrize('method', ('cacl_ctrgcn', 'skeletongcl_ctrgcn'))
@pytest.mark.parametrize('stream', STREAMS)
def test_ucla_contrastive_configs_keep_copies_apart(method, stream):
    ds = ucla_cfg(method, stream).train_dataloader.dataset
    assert (ds.type, ds.times, ds.index_per_copy) == ('IndexedRepeatDataset',
                                                      TIMES, True)
    base = Config.fromfile(
        osp.join(REPO, 'configs', 'nwucla', f'ctrgcn_{stream}.py'))
    assert ds.dataset == base.train_dataloader.dataset.dataset  # same data
    if method == 'skeletongcl_ctrgcn':  # released: N+ is reachable now
        assert ucla_cfg(method, stream).model.aux_heads.graph.sampler \
            .min_pos_policy == 'skip'


def test_getitem_gives_each_copy_its_own_sample_idx(tmp_path):
    labels = write_ucla_like(tmp_path / 'ucla.pkl')
    n = len(labels)
    cfg = ucla_cfg(ann_file=tmp_path / 'ucla.pkl')
    per_copy = DATASETS.build(cfg.train_dataloader.dataset)
    assert isinstance(per_copy, IndexedRepeatDataset)
    modulo = DATASETS.build(
        ucla_cfg(ann_file=tmp_path / 'ucla.pkl',
                 **{'train_dataloader.dataset.index_per_copy': False})
        .train_dataloader.dataset)
    plain_cfg = cfg.train_dataloader.dataset.copy()
    plain_cfg.pop('index_per_copy')
    plain = DATASETS.build(dict(plain_cfg, type='RepeatDataset'))
    assert type(plain) is RepeatDataset
    assert len(per_copy) == len(modulo) == len(plain) == TIMES * n

    for idx in range(TIMES * n):
        item = per_copy[idx]['data_samples']
        assert item.sample_idx == idx
        # the copy reads sample idx % n: same clip, same label
        assert item.frame_dir == f'a{idx % n:03d}'
        assert int(item.gt_label) == labels[idx % n]
        assert per_copy.get_data_info(idx)['sample_idx'] == idx
        # the switch: exactly mmengine's RepeatDataset
        off, ref = (d[idx]['data_samples'] for d in (modulo, plain))
        assert off.sample_idx == ref.sample_idx == idx % n
        assert off.frame_dir == ref.frame_dir == item.frame_dir


class _Loader:

    def __init__(self, dataset):
        self.dataset = dataset


class _Runner:

    def __init__(self, model, dataset):
        self.model = model
        self.train_dataloader = _Loader(dataset)
        self.logger = logging.getLogger('test_nwucla_bank')


def _one_epoch_of_updates(dataset, seed=0):
    """Size a bank with the hook, then write every item of one shuffled
    epoch (indices and labels as the dataset hands them out)."""
    bank = MemoryBank(dim=4, mode='index')
    MemoryBankHook().before_train(_Runner(torch.nn.ModuleList([bank]),
                                          dataset))
    order = torch.randperm(len(dataset),
                           generator=torch.Generator().manual_seed(seed))
    for batch in order.split(16):
        infos = [dataset.get_data_info(int(i)) for i in batch]
        bank.update(torch.randn(len(infos), 4),
                    torch.tensor([int(i['label']) for i in infos]),
                    torch.tensor([i['sample_idx'] for i in infos]))
    return bank


def test_bank_holds_a_slot_per_copy_and_the_switch_restores_one_per_sample(
        tmp_path):
    # 27 samples of class 0 (NW-UCLA's smallest classes are of that order),
    # 20 of class 1: per copy the bank has >= N+ = 128 positives of class 0
    labels = write_ucla_like(tmp_path / 'ucla.pkl', per_class=(27, 20), T=8)
    n = len(labels)
    cfg = ucla_cfg(ann_file=tmp_path / 'ucla.pkl')
    per_copy = DATASETS.build(cfg.train_dataloader.dataset)
    bank = _one_epoch_of_updates(per_copy)
    assert bank.size == TIMES * n and bool(bank.valid.all())
    assert Counter(bank.labels.tolist()) == {0: TIMES * 27, 1: TIMES * 20}
    # slot c * n + i holds sample i's label for every copy c
    assert bank.labels.view(TIMES, n).tolist() == [labels] * TIMES
    assert (bank.labels == 0).sum() >= 128

    modulo = DATASETS.build(
        ucla_cfg(ann_file=tmp_path / 'ucla.pkl',
                 **{'train_dataloader.dataset.index_per_copy': False})
        .train_dataloader.dataset)
    bank = _one_epoch_of_updates(modulo)
    assert bank.size == n and bool(bank.valid.all())
    assert bank.labels.tolist() == labels
    assert (bank.labels == 0).sum() < 128


def test_num_sample_indices_walks_wrappers(tmp_path):
    labels = write_ucla_like(tmp_path / 'ucla.pkl')
    inner = DATASETS.build(
        ucla_cfg(ann_file=tmp_path / 'ucla.pkl').train_dataloader.dataset
        .dataset)
    n = len(labels)
    assert len(inner) == n
    assert num_sample_indices(inner) == n
    assert num_sample_indices(RepeatDataset(inner, times=3)) == n
    per_copy = IndexedRepeatDataset(inner, times=3)
    assert num_sample_indices(per_copy) == 3 * n
    assert max(per_copy.get_data_info(i)['sample_idx']
               for i in range(len(per_copy))) == 3 * n - 1
    off = IndexedRepeatDataset(inner, times=3, index_per_copy=False)
    assert num_sample_indices(off) == n


def test_runner_sizes_and_fills_the_per_copy_bank(tmp_path):
    """The real config through the Runner: MemoryBankHook sizes the bank to
    TIMES * n and training writes slots of later copies (>= n)."""
    labels = write_ucla_like(tmp_path / 'ucla.pkl', T=8)
    n = len(labels)
    cfg = ucla_cfg(ann_file=tmp_path / 'ucla.pkl', **{
        'work_dir': str(tmp_path / 'work'),
        'train_dataloader.batch_size': 7,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'model.backbone.base_channels': 8,
        'model.cls_head.in_channels': 32,
        'log_level': 'WARNING',
    })
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=5)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    banks = [m for m in runner.model.modules() if isinstance(m, MemoryBank)]
    assert len(banks) == 1
    bank = banks[0]
    assert bank.size == TIMES * n
    # 5 iterations x 7 = the whole repeated epoch (35 items): every slot
    written = bank.valid.nonzero().flatten()
    assert written.tolist() == list(range(TIMES * n))
    assert bank.labels.view(TIMES, n).tolist() == [labels] * TIMES
