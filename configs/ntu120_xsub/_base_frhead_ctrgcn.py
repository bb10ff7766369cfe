# FR-Head (Zhou et al., CVPR'23) on CTR-GCN, NTU RGB+D 120 X-Sub: the template
# of frhead_ctrgcn_{j,b,jm,bm}.py.
# Recipe of the released runs (zhysora/FR-Head
# results/ntu120/xsub/*/config.yaml):
# CTR-GCN's NTU recipe (batch 64, SGD 0.1 nesterov, wd 4e-4, 5 warm-up
# epochs, x0.1 at 35 and 55) but 80 epochs (the paper says 70); CFR V1
# (--cl-version V1); random bone-length scaling +-0.2 after the random
# rotation (released `random_scale`, not in the paper).
# Switches (--cfg-options model.aux_heads.fr.KEY=VALUE):
#   cfr.version=V0|V1  decouple=False (no ST decoupling)
#   taps="['block10']" (single level)  cfr.use_fn=False  cfr.use_fp=False
#   stages.block5.weight=0.2  loss_weight=0.1  cfr.temperature=0.125
#   cfr.alpha=0.125  cfr.momentum=0.9  cfr.pred_threshold=0.0
#   start_epoch=0  cfr.unseen=random|mask  cfr.proto_grad=True
# The head is training-only: a checkpoint loads into ctrgcn_<stream>.py.
_base_ = ['./_base_ctrgcn.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN',
    num_frames={{_base_.clip_len}},  # sizes the heads' time axes
    aux_heads=dict(fr={{_base_.frhead_v1}}))
max_epochs = 80
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.bone_scale_train_pipeline}}))
