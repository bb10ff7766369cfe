# CACL (class-aware contrastive learning, ACCV'24) on CTR-GCN: the
# template of cacl_ctrgcn_{j,b,jm,bm}.py. The CTR-GCN recipe of this folder
# plus a training-only graph contrastive head (no cost at inference; a
# checkpoint loads into ctrgcn_*.py). The defaults of GraphContrastHead,
# MemoryBank, ContrastiveSampler and SampledInfoNCELoss are the paper's
# settings (tau 0.8, N+ 128 hard positives, N_c 512, R+CA negatives in two
# row sets, loss weight 1, trainable projection, index bank with one slot
# per training sample, anchors with fewer than N+ positives use those they
# have).
# NW-UCLA bank as released: the train set is repeated 5 times per epoch
# and, as in the SkeletonGCL/CACL feeder, each repeated copy has its own
# sample index, so the index bank holds 5 x 1,020 = 5,100 slots (about 510
# per class, each refreshed once per epoch) instead of 1,020.
#   train_dataloader.dataset.index_per_copy=False
#     one slot per sample (1,020, ~100 per class: N+ = 128 is never met)
# Every switch is reachable from the command line, e.g.
#   --cfg-options model.aux_heads.graph.sampler.neg_strategy=CA
#     (R, H, CA, R+H, R+CA; mix_mode=rows|pool, rand_ratio)
#   model.aux_heads.graph.sampler.num_neg=256 ...num_pos=64
#   model.aux_heads.graph.sampler.min_pos_policy=skip
#   model.aux_heads.graph.bank.mode=fifo model.aux_heads.graph.bank.size=8192
#   model.aux_heads.graph.loss.temperature=0.5 ...loss.loss_weight=0.5
#   model.aux_heads.graph.proj_trainable=False
_base_ = ['./_base_ctrgcn.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN', aux_heads=dict(graph={{_base_.cacl}}))
custom_hooks = [dict(type='MemoryBankHook')]
# a sample_idx per repeated copy (MemoryBankHook sizes the bank to 5,100)
train_dataloader = dict(
    dataset=dict(type='IndexedRepeatDataset', index_per_copy=True))
