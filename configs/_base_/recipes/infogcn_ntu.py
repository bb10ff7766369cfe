# InfoGCN's released NTU recipe (stnoah1/infogcn README command, args.py;
# the same for the four NTU benchmarks): batch 128, SGD 0.1 nesterov, wd
# 5e-4, 5 warm-up epochs, 110 epochs, x0.1 at 90 and 100, k=1, lambda_1
# 1e-4, lambda_2 0.1, z_prior_gain 3, noise_ratio 0.5; 64 frames, crop p in
# [0.5, 1] / 0.95, rotation (the CTR-GCN pipeline of ../datasets/ntu3d.py)
# on body-aligned input, as released (main.py loads *_aligned.npz, made by
# utils.py align_skeleton): AlignSkeleton after the centring rotates each
# person into axes from its first frame (spine -> z, right -> left hip ->
# x, y = x cross z). Switch it off (unaligned input) with --cfg-options
# {train,val,test}_dataloader.dataset.pipeline.1.type=CenterJoint (a
# second centring is a no-op). Seed: the release's --seed default is 1, as
# randomness.seed here.
# The release trains half precision (apex); here fp32. It ensembles k-mode
# position/motion runs; here the four streams j/b/jm/bm each go through
# I - A^k. configs/ntu*/_base_infogcn.py add the benchmark.
_base_ = [
    '../default_runtime.py', '../schedules/sgd_warmup_step.py',
    '../models/infogcn.py', '../datasets/ntu3d.py'
]
model = dict(backbone=dict(graph_cfg=dict(layout='nturgb+d'), num_person=2))
train_dataloader = dict(
    batch_size=128, dataset=dict(pipeline={{_base_.aligned_train_pipeline}}))
val_dataloader = dict(
    batch_size=128, dataset=dict(pipeline={{_base_.aligned_test_pipeline}}))
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=128)
max_epochs = 110
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    # 5 warm-up epochs: .02 .04 .06 .08 .1 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[90, 100], gamma=0.1,
         by_epoch=True, begin=0),
]
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4))
