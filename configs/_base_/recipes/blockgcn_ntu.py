# BlockGCN's released NTU recipe (ZhouYuxuanYX/BlockGCN config/nturgbd*-
# cross-*/*.yaml; the same for the four NTU benchmarks): batch 64, SGD 0.05
# nesterov, wd 4e-4, 5 warm-up epochs, 140 epochs, x0.1 at 110 and 120;
# 64 frames, crop p in [0.5, 1] / 0.95, rotation. Data: CTR-GCN's pipeline
# of ../datasets/ntu3d.py plus the released feeder's per-frame centring
# before the stream conversion (as Hyperformer's, GenStreamFeat
# frame_center): joints re-centred on joint 21 in every frame, joint 21
# keeping its trajectory (also in place of its zero self-bone in the bone
# stream). The release trains with AMP on two GPUs (DataParallel).
# configs/ntu*/_base_blockgcn.py add the benchmark (classes, file, split).
_base_ = [
    '../default_runtime.py', '../schedules/sgd_warmup_step.py',
    '../models/blockgcn.py', '../datasets/ntu3d.py'
]
model = dict(backbone=dict(graph_cfg=dict(layout='nturgb+d'), num_person=2))
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.frame_center_train_pipeline}}))
val_dataloader = dict(
    dataset=dict(pipeline={{_base_.frame_center_test_pipeline}}))
test_dataloader = val_dataloader
max_epochs = 140
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    # 5 warm-up epochs: .01 .02 .03 .04 .05 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[110, 120], gamma=0.1,
         by_epoch=True, begin=0),
]
# lr 0.05: the final release (ZhouYuxuanYX/BlockGCN 7b45971, 2024-07-25)
# sets base_lr 0.05 in all 16 NTU YAMLs; the first upload (c10e471,
# 2023-05-16) had 0.1, changed to 0.05 in c2bafbe (2023-11-19, "update").
# Switch: --cfg-options optim_wrapper.optimizer.lr=0.1
optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=4e-4))
