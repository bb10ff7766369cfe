# CACL (class-aware contrastive learning, ACCV'24) on CTR-GCN: the
# template of cacl_ctrgcn_{j,b,jm,bm}.py. The CTR-GCN recipe of this folder
# plus a training-only graph contrastive head (no cost at inference; a
# checkpoint loads into ctrgcn_*.py). The defaults of GraphContrastHead,
# MemoryBank, ContrastiveSampler and SampledInfoNCELoss are the paper's
# settings (tau 0.8, N+ 128 hard positives, N_c 512, R+CA negatives in two
# row sets, loss weight 1, trainable projection, index bank with one slot
# per training sample, anchors with fewer than N+ positives use those they
# have). Every switch is reachable from the command line, e.g.
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
