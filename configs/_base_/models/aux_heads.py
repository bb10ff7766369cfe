# Training-only auxiliary heads, defined once. A dataset's method template
# inherits this file next to its baseline and plugs a head in:
#   model = dict(type='AuxRecognizerGCN', aux_heads=dict(graph={{_base_.cacl}}))
# The recognizer sizes every head from the backbone's published taps
# (channels, strides, joints) and its `num_frames` (the clip length), so no
# head states a size here; override any key from the command line, e.g.
#   --cfg-options model.aux_heads.graph.sampler.neg_strategy=CA

# CACL (ACCV'24): graph contrast of the last block's refined topology. The
# defaults of GraphContrastHead / MemoryBank / ContrastiveSampler /
# SampledInfoNCELoss are the paper's: tau 0.8, N+ 128 hard positives, N_c
# 512, R+CA negatives in two row sets, loss weight 1, trainable projection,
# index bank with one slot per training sample, anchors with fewer than N+
# positives use those they have. Switches:
#   sampler.neg_strategy=R|H|CA|R+H|R+CA  sampler.mix_mode=rows|pool
#   sampler.num_pos=64 sampler.num_neg=256 sampler.min_pos_policy=skip
#   bank.mode=fifo bank.size=8192  loss.temperature=0.5 loss.loss_weight=0.5
#   proj_trainable=False  update_before_loss=False  start_epoch=5
cacl = dict(type='GraphContrastHead')

# SkeletonGCL (ICLR'23) as released: R+H negatives (two row sets per
# positive), hard positives, anchors skipped until the bank holds N+
# positives and N_c negatives, and the projection frozen at its random init
# (the released Linear is not in the optimizer).
skeletongcl = dict(
    type='GraphContrastHead',
    proj_trainable=False,
    sampler=dict(
        neg_strategy='R+H', min_pos_policy='skip', min_neg_policy='skip'))

# FR-Head (CVPR'23): CFR at blocks 1, 5, 8, 10 with the weights lambda of
# Eq. 1 and w_cl = 0.1. Switches (model.aux_heads.fr.KEY=VALUE):
#   cfr.version=V0|V1  decouple=False (no ST decoupling)
#   taps="['block10']" (single level)  cfr.use_fn=False  cfr.use_fp=False
#   stages.block5.weight=0.2  loss_weight=0.1  cfr.temperature=0.125
#   cfr.alpha=0.125  cfr.momentum=0.9  cfr.pred_threshold=0.0
#   start_epoch=0  update_before_start=False  cfr.unseen=random|mask
#   cfr.proto_grad=True
frhead_stages = dict(
    block1=dict(weight=0.1),
    block5=dict(weight=0.2),
    block8=dict(weight=0.5),
    block10=dict(weight=1.0))
frhead_v0 = dict(type='FRHead', stages=frhead_stages, loss_weight=0.1,
                 cfr=dict(version='V0'))
frhead_v1 = dict(frhead_v0, cfr=dict(version='V1'))

# CSRE (Pattern Recognition 2025): STFD on the encoder's final map (r 8,
# D 256, mean over persons incl. zero-padded ones), a spatial and a
# temporal bank (one slot per training sample, written before the loss),
# 128 hard positives, 512 hard + 512 random negatives in separate row sets,
# anchors short of them skipped, tau 0.8, lambda 0.5 each (the released
# code's CE + (L_s + L_t) / 2; the paper's Eq. 10 uses 1). Switches
# (model.aux_heads.csre.KEY=VALUE):
#   branches="['spatial']" | "['temporal']" | "['global']" |
#     "['spatial','temporal','global']"   (Table 5)
#   sampler.pos_strategy=hard|random|random+hard
#   sampler.neg_strategy=R|H|R+H (Table 6)   sampler.num_pos=128
#   sampler.num_neg=512   sampler.min_pos_policy=use_available (relaxed)
#   loss.temperature=0.5|0.8|1.0   loss_weights.spatial=1.0
#   loss_weights.temporal=1.0   person_mean=valid   reduction=8
#   feat_dim=256   bank.mode=fifo bank.size=16384 (the paper's suggested
#   FIFO capacity)   sampler.exclude_self=True (the release counts the
#   anchor's own slot as a positive)   fp32_similarity=False (the
#   release's half-precision similarity under AMP)
# Every bank contrast (CACL, SkeletonGCL, CSRE) logs its anchor fraction
# and mean loss per epoch; a run in which one used no anchor for a whole
# epoch stops with the reason (MemoryBankHook; custom_hooks.0.on_starved=
# warn only warns): docs/user_guides/own_data.md.
csre = dict(type='CSREHead')
