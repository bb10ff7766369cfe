"""Static check over every shipped config: each bank-contrast head (CACL,
SkeletonGCL, CSRE) can have anchors that qualify, given the class
histogram of the config's training set, its repeat factor and the head's
sampler rule (``ContrastiveSampler.requirement`` / ``starved_classes``:
the rule its forward applies). A head whose anchors can never qualify
trains a loss of exactly 0 for the whole run (HCN on NW-UCLA with 1,020
slots did).

Histograms:

* NW-UCLA: exact, from the clip names of ``all_sqe`` (train = views 1
  and 2; ``a<action>_s<subject>_e<episode>_v<view>.json``) when
  /work/shared/data/nwucla/all_sqe (or ``$MMSKELCL_NWUCLA_SQE``) is
  present; the same counts are committed below and checked against it.
* NTU and FineGym: bounds from their documented counts (the specs'
  split tables and the converters): ``N`` training clips in ``K``
  classes, so the largest class holds at least ``ceil(N / K)``; NTU
  classes are balanced in the full set (NTU60 56,880 = 60 x 948, NTU120
  114,480 = 120 x 954), so no class has more than 948 / 954 training
  clips. FineGym's per-class counts are not documented: a long tail of 99
  classes (mean 207); assumed here that no class holds half of the clips.
* Demo: ``generate_demo_annotations`` defaults, 40 clips per class over 8
  subjects (5 each), 2 subjects held out: 30 per class in training.
"""
import glob
import math
import os
import os.path as osp
import re
from collections import Counter
from typing import List, Optional

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

from mmskelcl.models.heads.csre_head import CSREHead

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SQE = os.environ.get('MMSKELCL_NWUCLA_SQE',
                     '/work/shared/data/nwucla/all_sqe')
#: NW-UCLA training clips per class (views 1, 2; actions 1-6, 8, 9, 11, 12)
NWUCLA_TRAIN = [102, 102, 96, 124, 101, 102, 99, 99, 98, 97]
#: (training clips, classes, most clips any class can have)
BOUNDS = {
    'ntu60_xsub': (40091, 60, 948),
    'ntu60_xview': (37646, 60, 948),
    'ntu120_xsub': (63026, 120, 954),
    'ntu120_xset': (54471, 120, 954),
    'finegym': (20484, 99, 20484 // 2),
}
EXACT = {'nwucla': NWUCLA_TRAIN, 'demo': [30] * 8}
BANK_HEADS = ('GraphContrastHead', 'CSREHead')
OTHER_HEADS = ('FRHead', )  # prototypes: every sample contributes


def nwucla_histogram_from_names(folder: str) -> List[int]:
    """Training clips per class from the ``all_sqe`` file names."""
    names = [n for n in os.listdir(folder) if n.endswith('.json')]
    pat = re.compile(r'a(\d+)_s\d+_e\d+_v(\d+)\.json$')
    parsed = [pat.match(n).groups() for n in names]
    actions = sorted({int(a) for a, _ in parsed})
    train = Counter(actions.index(int(a)) for a, v in parsed
                    if int(v) in (1, 2))
    assert len(names) == 1484, len(names)
    return [train[c] for c in range(len(actions))]


def _has_bank_name(path: str) -> bool:
    return bool(re.search(r'(^|_)(cacl|skeletongcl|csre)_',
                          osp.basename(path)))


def _configs():
    """Configs of the methods with a bank (their names say so; a test
    below checks that the others have no bank head)."""
    files = sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py')))
    return [f for f in files
            if not osp.basename(f).startswith('_') and _has_bank_name(f)]


def _repeat(train_dataset: dict) -> int:
    """Bank slots per clip: the copies of an IndexedRepeatDataset with
    ``index_per_copy`` (one slot per copy); 1 otherwise (RepeatDataset
    takes indices modulo the clips)."""
    if train_dataset.get('type') == 'IndexedRepeatDataset' and \
            train_dataset.get('index_per_copy', True):
        return int(train_dataset['times'])
    return 1


def _sampler(head: dict):
    cfg = dict(head.get('sampler') or {})
    if head['type'] == 'CSREHead':
        cfg = dict(CSREHead.SAMPLER_DEFAULTS, **cfg)
    return MODELS.build(dict(type='ContrastiveSampler', **cfg))


def check_heads(cfg: Config, dataset: str) -> List[str]:
    """Problems of the config's bank-contrast heads (empty: all can
    anchor)."""
    problems = []
    heads = cfg.model.get('aux_heads') or {}
    repeat = _repeat(cfg.train_dataloader.dataset)
    for name, head in heads.items():
        kind = head['type']
        assert kind in BANK_HEADS + OTHER_HEADS, (
            f'{kind}: say whether it has a bank contrast (BANK_HEADS)')
        if kind not in BANK_HEADS:
            continue
        sampler = _sampler(head)
        bank = head.get('bank') or {}
        problem = _check_one(sampler, bank, dataset, repeat)
        if problem:
            problems.append(f'{name}: {problem}')
    return problems


def _check_one(sampler, bank: dict, dataset: str,
               repeat: int) -> Optional[str]:
    if dataset in EXACT:
        clips = [n * repeat for n in EXACT[dataset]]
        slots = sum(clips)
        if bank.get('mode') == 'fifo' and bank.get('size'):
            share = min(1., bank['size'] / slots)
            clips = [math.floor(n * share) for n in clips]
            slots = min(slots, bank['size'])
        short = sampler.starved_classes(clips, slots)
        if len(short) == len(clips):
            return f'no class can anchor in {slots} slots: {short}'
        return None
    total, classes, most = BOUNDS[dataset]
    slots, share = total * repeat, 1.
    if bank.get('mode') == 'fifo' and bank.get('size'):
        share = min(1., bank['size'] / slots)
        slots = min(slots, bank['size'])
    need_pos, need_neg = sampler.requirement(slots)
    largest = math.floor(math.ceil(total / classes) * repeat * share)
    fewest_neg = math.floor((total - most) * repeat * share)
    if largest - int(sampler.exclude_self) < need_pos:
        return f'largest class >= {largest} slots < {need_pos} positives'
    if fewest_neg < need_neg:
        return f'negatives >= {fewest_neg} < {need_neg}'
    return None


def test_committed_nwucla_histogram_is_the_real_one():
    if not osp.isdir(SQE):
        pytest.skip(f'{SQE} absent: the committed histogram is used')
    assert nwucla_histogram_from_names(SQE) == NWUCLA_TRAIN


CONFIGS = _configs()


def test_the_check_covers_every_method_with_a_bank():
    names = {osp.basename(f).split('_')[0] for f in CONFIGS}
    assert {'cacl', 'skeletongcl', 'csre', 'frhead'} <= names
    assert {osp.basename(osp.dirname(f)) for f in CONFIGS} == set(
        BOUNDS) | set(EXACT)
    # every other config with auxiliary heads has none with a bank
    others = [f for f in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
              if not _has_bank_name(f) and 'aux_heads' in open(f).read()]
    assert others
    for path in others:
        heads = Config.fromfile(path).model.get('aux_heads') or {}
        assert not {h['type'] for h in heads.values()} & set(BANK_HEADS)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_every_bank_contrast_head_can_anchor(path):
    cfg = Config.fromfile(path)
    dataset = osp.basename(osp.dirname(path))
    assert check_heads(cfg, dataset) == []


def test_the_check_catches_the_old_hcn_nwucla_bank():
    # the HCN template before the fix: one pass, so 1,020 per-copy slots
    cfg = Config.fromfile(osp.join(ROOT, 'configs/nwucla/csre_hcn_j.py'))
    assert _repeat(cfg.train_dataloader.dataset) == 5
    cfg.merge_from_dict({'train_dataloader.dataset.times': 1})
    (problem, ) = check_heads(cfg, 'nwucla')
    assert problem.startswith('csre: no class can anchor in 1020 slots')
    assert "3: '124 < 128 positives'" in problem
    # the documented remedy makes it pass again
    cfg.merge_from_dict(
        {'model.aux_heads.csre.sampler.min_pos_policy': 'use_available'})
    assert check_heads(cfg, 'nwucla') == []


def test_the_check_catches_a_starved_bound_dataset():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/ntu60_xsub/skeletongcl_ctrgcn_j.py'))
    # a FIFO bank of 4,096 on NTU60: about 4096 / 60 = 68 per class
    cfg.merge_from_dict({'model.aux_heads.graph.bank.mode': 'fifo',
                         'model.aux_heads.graph.bank.size': 4096})
    (problem, ) = check_heads(cfg, 'ntu60_xsub')
    assert problem == 'graph: largest class >= 68 slots < 128 positives'


def _hcn_step(times: int):
    """csre_hcn_j.py's model with its banks sized as MemoryBankHook sizes
    them for ``times`` copies of the 1,020 NW-UCLA training clips and
    filled with the real labels; one loss step on a batch of every
    class."""
    import copy

    import torch
    from mmaction.structures import ActionDataSample
    from mmengine.logging import MessageHub
    MessageHub.get_current_instance().update_info('epoch', 0)
    cfg = Config.fromfile(osp.join(ROOT, 'configs/nwucla/csre_hcn_j.py'))
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    labels = torch.tensor([c for c, n in enumerate(NWUCLA_TRAIN)
                           for _ in range(n)] * times)
    for unit in model.aux_heads['csre'].contrast.values():
        unit.bank.resize(len(labels))
        unit.bank.update(torch.nn.functional.normalize(
            torch.randn(len(labels), unit.bank.dim), dim=1), labels,
            torch.arange(len(labels)))
    samples = []
    for c in range(10):  # each anchor writes over its class's first slot
        ds = ActionDataSample().set_gt_label(c)
        ds.set_metainfo(dict(sample_idx=int((labels == c).nonzero()[0])))
        samples.append(ds)
    x = torch.randn(10, 1, 1, cfg.clip_len, 20, 3)
    return model.loss(x, samples)


def test_full_hcn_nwucla_bank_lets_every_class_anchor():
    # the shipped config: 5 copies, 5,100 slots, every class >= 480
    assert Config.fromfile(osp.join(
        ROOT, 'configs/nwucla/csre_hcn_j.py')).train_dataloader.dataset[
            'times'] == 5
    losses = _hcn_step(times=5)
    for b in ('spatial', 'temporal'):
        assert float(losses[f'csre_{b}_anchors']) == 1.0
        assert float(losses[f'loss_csre_{b}']) > 0
    # one pass (the old config): 1,020 slots, no class reaches 128
    losses = _hcn_step(times=1)
    for b in ('spatial', 'temporal'):
        assert float(losses[f'csre_{b}_anchors']) == 0.0
        assert float(losses[f'loss_csre_{b}']) == 0.0
