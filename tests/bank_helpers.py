"""Shared pieces of the CACL tests (hand-built banks, tiny Runner config,
the distributed worker)."""
import os

import torch
import torch.nn.functional as F
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle

# --------------------------------------------------------------------------
# A hand-built bank. Row 0 of SIM is an anchor of class 0, row 1 an anchor
# of class 1. The similarities are written out so every selection is known.
#
#   slot  label valid  sim(a0)  sim(a1)
#     0     0    yes     0.90    -0.30
#     1     0    yes     0.20     0.10
#     2     0    yes     0.50     0.40
#     3     0    yes    -0.10     0.00
#     4     1    yes     0.80     0.95
#     5     1    yes    -0.50     0.30
#     6     1    yes    -0.60    -0.20
#     7     2    yes     0.30     0.60
#     8     2    yes     0.10     0.50
#     9     3    NO      0.70     0.90   (stale entry of class 3)
#    10     3    yes    -0.20    -0.40
#    11     2    yes     0.25     0.55
#    12    -1    NO      0.00     0.00   (never filled)
#    13     1    NO      0.99     0.99   (stale entry of class 1)
#    14     4    yes    -0.30     0.70
#    15     4    yes    -0.35    -0.50
#
# Anchor 0 (class 0): positives {0,1,2,3}; negatives
#   {4,5,6,7,8,10,11,14,15}. Class means (Eq. 8, valid entries only):
#   class 2: (0.30+0.10+0.25)/3 = 0.2167, class 1: (0.8-0.5-0.6)/3 = -0.1,
#   class 3: -0.2 (slot 9 is invalid; counted it would give 0.25),
#   class 4: -0.325  ->  CA order 7, 11, 8 | 4, 5, 6 | 10 | 14, 15.
#   H order: 4 (.8), 7 (.3), 11 (.25), 8 (.1), 10 (-.2), 14 (-.3),
#   15 (-.35), 5 (-.5), 6 (-.6): H starts in class 1, CA in class 2.
#   Hard positives 3, 1, 2, 0; easy 0, 2, 1, 3.
# Anchor 1 (class 1): positives {4,5,6}; negatives
#   {0,1,2,3,7,8,10,11,14,15}. Class means: class 2: 0.55, class 4: 0.1,
#   class 0: 0.05, class 3: -0.4 -> CA order 7, 11, 8 | 14, 15 | 2, 1, 3, 0
#   | 10. H order: 14, 7, 11, 8, 2, 1, 3, 0, 10, 15.
#   Hard positives 6, 5, 4; easy 4, 5, 6 (slot 13, sim .99, is stale).
# --------------------------------------------------------------------------
BANK_LABELS = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 2, -1, 1, 4, 4])
BANK_VALID = torch.tensor([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1],
                          dtype=torch.bool)
SIM = torch.tensor([
    [.90, .20, .50, -.10, .80, -.50, -.60, .30, .10, .70, -.20, .25, 0., .99,
     -.30, -.35],
    [-.30, .10, .40, .00, .95, .30, -.20, .60, .50, .90, -.40, .55, 0., .99,
     .70, -.50],
])
ANCHOR_LABELS = torch.tensor([0, 1])
POS = [{0, 1, 2, 3}, {4, 5, 6}]
NEG = [{4, 5, 6, 7, 8, 10, 11, 14, 15}, {0, 1, 2, 3, 7, 8, 10, 11, 14, 15}]
H_ORDER = [[4, 7, 11, 8, 10, 14, 15, 5, 6],
           [14, 7, 11, 8, 2, 1, 3, 0, 10, 15]]
HARD_POS = [[3, 1, 2, 0], [6, 5, 4]]
EASY_POS = [[0, 2, 1, 3], [4, 5, 6]]
CA_ORDER = [[7, 11, 8, 4, 5, 6, 10, 14, 15],
            [7, 11, 8, 14, 15, 2, 1, 3, 0, 10]]
CA_CLASSES = [[2, 1, 3, 4], [2, 4, 0, 3]]


def hand_bank(repeat: int = 1):
    """``(sim, labels, bank_labels, bank_valid)``, anchors repeated."""
    return (SIM.repeat(repeat, 1), ANCHOR_LABELS.repeat(repeat), BANK_LABELS,
            BANK_VALID)


def random_bank(seed, B=6, Q=40, D=16, num_classes=5, p_valid=0.8,
                rare_class=None, rare_count=2):
    """Random normalised bank + anchors. ``rare_class`` keeps only
    ``rare_count`` valid entries of that class (to exercise min_pos)."""
    g = torch.Generator().manual_seed(seed)
    feats = F.normalize(torch.randn(Q, D, generator=g), dim=1)
    labels = torch.randint(0, num_classes, (Q, ), generator=g)
    valid = torch.rand(Q, generator=g) < p_valid
    if rare_class is not None:
        idx = (labels == rare_class).nonzero().flatten()
        valid[idx] = False
        valid[idx[:rare_count]] = True
    raw = torch.randn(B, D, generator=g)
    y = torch.randint(0, num_classes, (B, ), generator=g)
    if rare_class is not None:
        y[y == rare_class] = (rare_class + 1) % num_classes
        y[0] = rare_class
    return raw, y, feats, labels, valid


# --------------------------------------------------------------------------
# Tiny Runner config (copied from tests/engine/test_runner_cycle.py and
# given a GraphContrastHead).
# --------------------------------------------------------------------------
write_pickle = write_tiny_pickle


def contrast_head_cfg(mode='index', neg_strategy='R+CA'):
    return dict(type='GraphContrastHead', in_dim=3 * 17 * 17, num_classes=3,
                proj_dim=16, bank=dict(mode=mode),
                sampler=dict(num_pos=2, num_neg=3, neg_strategy=neg_strategy),
                loss=dict(temperature=0.8))


def runner_cfg(ann_file, work_dir, max_epochs=2, aux=True,
               recognizer='AuxRecognizerGCN'):
    model = dict(type=recognizer, backbone=TINY_BACKBONE,
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    if aux:  # by name, as the configs do (state-dict prefix aux_heads.graph)
        model['aux_heads'] = dict(graph=contrast_head_cfg())
    # no validation during these runs (val_interval > max_epochs)
    return tiny_runner_cfg(ann_file, work_dir, model, max_epochs=max_epochs,
                           val_interval=100,
                           custom_hooks=[dict(type='MemoryBankHook')])


# --------------------------------------------------------------------------
# Distributed worker (spawned by tests/cacl/test_dist.py).
# --------------------------------------------------------------------------
RANK_ROWS = {0: 3, 1: 2}  # different batch sizes per rank
RANK_INDICES = {0: [0, 5, 2], 1: [7, 3]}
RANK_ROWS_2 = {0: 2, 1: 3}


def rank_batch(rank, step, dim=4):
    """The deterministic batch of ``rank`` at ``step``."""
    n = (RANK_ROWS if step == 0 else RANK_ROWS_2)[rank]
    g = torch.Generator().manual_seed(100 * step + rank)
    feats = F.normalize(torch.randn(n, dim, generator=g), dim=1)
    labels = torch.randint(0, 3, (n, ), generator=g)
    return feats, labels


def dist_worker(rank, world_size, init_file, out_dir):
    import datetime

    import torch.distributed as dist
    from mmengine.registry import init_default_scope

    import mmskelcl  # noqa: F401
    from mmskelcl.models.heads import GraphContrastHead
    from mmskelcl.models.memory import MemoryBank
    init_default_scope('mmaction')
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=60))
    try:
        out = {}
        # index mode: slots are the sample indices of every rank
        bank = MemoryBank(dim=4, size=8, mode='index')
        feats, labels = rank_batch(rank, 0)
        idx = torch.tensor(RANK_INDICES[rank])
        out['index_slots'] = bank.update(feats, labels, idx)
        out['index_state'] = {k: v.clone()
                              for k, v in bank.state_dict().items()}
        # fifo mode: gathered in rank order, two updates (the second wraps)
        bank = MemoryBank(dim=4, size=8, mode='fifo')
        out['fifo_slots'] = []
        for step in (0, 1):
            feats, labels = rank_batch(rank, step)
            out['fifo_slots'].append(bank.update(feats, labels))
        out['fifo_state'] = {k: v.clone()
                             for k, v in bank.state_dict().items()}
        # a GraphContrastHead built with the same seed on every rank
        torch.manual_seed(0)
        head = GraphContrastHead(
            in_dim=3 * 5 * 5, num_classes=3, proj_dim=8,
            bank=dict(mode='index', size=10),
            sampler=dict(num_pos=1, num_neg=2, neg_strategy='R+CA'))
        g = torch.Generator().manual_seed(rank)
        n = RANK_ROWS[rank]
        taps = dict(topology=torch.randn(n, 3, 5, 5, generator=g))
        labels = torch.tensor([0, 1, 2][:n])
        sample_idx = torch.tensor(RANK_INDICES[rank])
        losses = head.loss(taps, logits=None, labels=labels,
                           sample_idx=sample_idx)
        out['head_z'] = head.embed(taps).detach()
        out['head_loss'] = losses['loss_contrast'].detach()
        out['head_proj'] = head.proj.fc.weight.detach().clone()
        out['head_state'] = {k: v.clone()
                             for k, v in head.bank.state_dict().items()}
        torch.save(out, os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()
