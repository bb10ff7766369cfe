"""Shared pieces of the FR-Head tests: tiny models, a tiny Runner config
and the distributed worker."""
import copy
import os

import torch
from tiny_run import tiny_runner_cfg, write_tiny_pickle

# A tiny CTR-GCN (coco layout, 17 joints): blocks 8, 8, 16 channels, temporal
# stride 2 at block 3, so with T = 8 frames the taps are
# block1 (8, 8, 17), block2 (8, 8, 17), block3 (16, 4, 17).
TINY_BACKBONE = dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                     num_person=1, base_channels=8, num_stages=3,
                     inflate_stages=(3, ), down_stages=(3, ))
TINY_STAGES = dict(
    block1=dict(in_channels=8, temporal_stride=1, weight=0.1),
    block3=dict(in_channels=16, temporal_stride=2, weight=1.0))
TINY_FRAMES = 8


def tiny_head(num_classes=3, **kwargs):
    cfg = dict(type='FRHead', num_classes=num_classes,
               num_frames=TINY_FRAMES, num_joints=17,
               stages=copy.deepcopy(TINY_STAGES), hidden_channels=32)
    cfg.update(kwargs)
    return cfg


def tiny_model(aux=True, num_classes=3, **head_kwargs):
    model = dict(
        type='AuxRecognizerGCN' if aux else 'RecognizerGCN',
        backbone=copy.deepcopy(TINY_BACKBONE),
        cls_head=dict(type='GCNHead', num_classes=num_classes,
                      in_channels=16))
    if aux:
        model['aux_heads'] = dict(fr=tiny_head(num_classes, **head_kwargs))
    return model


write_pickle = write_tiny_pickle


def runner_cfg(ann_file, work_dir, max_epochs=2, aux=True):
    # no validation during these runs (val_interval > max_epochs)
    return tiny_runner_cfg(ann_file, work_dir, tiny_model(aux=aux),
                           max_epochs=max_epochs, clip_len=TINY_FRAMES,
                           test_clips=1, val_interval=100)


# --------------------------------------------------------------------------
# Distributed worker (spawned by tests/frhead/test_frhead_dist.py). Rank 0
# has 3 samples, rank 1 has 2; class 0 has confident samples on both ranks,
# class 1 only on rank 1, class 2 on none.
# --------------------------------------------------------------------------
IN_DIM, HIDDEN, K = 6, 4, 3
RANK_LABELS = {0: [0, 0, 2], 1: [0, 1]}
RANK_PREDS = {0: [0, 1, 0], 1: [0, 1]}


def rank_batch(rank, step):
    """Features, logits (argmax = RANK_PREDS) and labels of a rank."""
    g = torch.Generator().manual_seed(10 * step + rank)
    labels = torch.tensor(RANK_LABELS[rank])
    x = torch.randn(len(labels), IN_DIM, generator=g)
    logits = torch.randn(len(labels), K, generator=g)
    logits[torch.arange(len(labels)), torch.tensor(RANK_PREDS[rank])] += 5
    return x, logits, labels


def full_batch(step, world=2):
    parts = [rank_batch(r, step) for r in range(world)]
    return tuple(torch.cat(p) for p in zip(*parts))


def dist_worker(rank, world_size, init_file, out_dir):
    import datetime

    import torch.distributed as dist
    from mmengine.registry import init_default_scope

    import mmskelcl  # noqa: F401
    from mmskelcl.models.heads import FRHead
    from mmskelcl.models.losses import CFRLoss
    torch.set_num_threads(1)
    init_default_scope('mmaction')
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=60))
    try:
        out = {'protos': [], 'updates': []}
        torch.manual_seed(0)  # same init as the single-process reference
        cfr = CFRLoss(IN_DIM, K, hidden_channels=HIDDEN, momentum=0.9)
        for step in (0, 1):
            x, logits, labels = rank_batch(rank, step)
            cfr(x, logits, labels)
            out['protos'].append(cfr.prototypes.clone())
            out['updates'].append(cfr.proto_updates.clone())
        # a whole FRHead whose ranks start from different random prototypes
        torch.manual_seed(0)
        head = FRHead(num_classes=K, num_frames=8, num_joints=17,
                      stages=dict(block1=dict(in_channels=8,
                                              temporal_stride=1,
                                              weight=1.0)),
                      hidden_channels=32)
        torch.manual_seed(100 + rank)
        for m in head.modules():
            if isinstance(m, CFRLoss):
                m.prototypes.normal_()
        out['head_init'] = {k: v.clone() for k, v in head.state_dict().items()
                            if k.endswith('prototypes')}
        g = torch.Generator().manual_seed(rank)
        n = 3 + rank
        taps = dict(block1=torch.randn(n, 1, 8, 8, 17, generator=g))
        labels = torch.arange(n) % K
        logits = torch.nn.functional.one_hot(labels, K).float() * 4
        head.loss(taps, logits=logits, labels=labels)
        out['head_protos'] = {
            k: v.clone()
            for k, v in head.state_dict().items() if k.endswith('prototypes')
        }
        torch.save(out, os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()
