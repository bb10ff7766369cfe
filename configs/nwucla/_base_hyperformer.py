# Hyperformer on NW-UCLA: the template of hyperformer_{j,b,jm,bm}.py.
# Released recipe (ZhouYuxuanYX/Hyperformer config/ucla/*.yaml, identical in
# CSRE's release): batch 16, SGD 0.025 nesterov, weight decay 0, 5 warm-up
# epochs, 150 epochs, x0.1 at 110 and 120; 52 frames, train set repeated 5
# times (the CTR-GCN UCLA feeder of ../_base_/datasets/nwucla.py), plus the
# released feeder's per-frame centring before the stream conversion
# (GenStreamFeat frame_center, centre joint 3 from the layout): the joint
# stream is re-centred on joint 3 in every frame, which keeps its own
# trajectory, and the bone stream keeps joint 3's trajectory in place of
# its zero self-bone; the motion streams are motions of these.
# Body-part partition per stream, as released: joint / joint motion use
# `joint_label_j`, bone / bone motion `joint_label_b` (the stream files set
# it).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/hyperformer.py', '../_base_/datasets/nwucla.py'
]
num_classes = 10
joint_label_j = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
joint_label_b = [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 2, 2, 2, 0, 2, 2, 2]
model = dict(
    backbone=dict(graph_cfg=dict(layout='nwucla'), num_person=1,
                  joint_label=joint_label_j),
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
max_epochs = 150
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.025, weight_decay=0.))
auto_scale_lr = dict(base_batch_size=16)
param_scheduler = [
    # 5 warm-up epochs: base x .2 .4 .6 .8 1 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[110, 120], gamma=0.1,
         by_epoch=True, begin=0),
]
train_dataloader = dict(
    dataset=dict(dataset=dict(
        pipeline={{_base_.frame_center_train_pipeline}})))
val_dataloader = dict(
    dataset=dict(pipeline={{_base_.frame_center_test_pipeline}}))
test_dataloader = val_dataloader
