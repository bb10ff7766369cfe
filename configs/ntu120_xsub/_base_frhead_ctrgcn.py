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
_base_ = ['./_base_ctrgcn.py']
model = dict(
    type='AuxRecognizerGCN',
    aux_heads=dict(
        fr=dict(
            type='FRHead',
            num_classes=120,
            num_frames=64,  # the clip length of the pipeline
            num_joints=25,
            stages=dict(  # tap: channels, temporal stride, lambda (Eq. 1)
                block1=dict(in_channels=64, temporal_stride=1, weight=0.1),
                block5=dict(in_channels=128, temporal_stride=2, weight=0.2),
                block8=dict(in_channels=256, temporal_stride=4, weight=0.5),
                block10=dict(in_channels=256, temporal_stride=4,
                             weight=1.0)),
            loss_weight=0.1,
            cfr=dict(version='V1'))))
max_epochs = 80
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.bone_scale_train_pipeline}}))
