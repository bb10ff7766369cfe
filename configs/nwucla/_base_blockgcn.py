# BlockGCN on NW-UCLA: the template of blockgcn_{j,b,jm,bm}.py. The
# release has no UCLA config (train.sh names a missing config/ucla/ and a
# work dir "decay_110_120_140_epochs"), so: the release's optimizer and
# schedule (SGD 0.05 nesterov, wd 4e-4, 5 warm-up epochs, 140 epochs, x0.1
# at 110 and 120, as its run name says) with the CTR-GCN UCLA data recipe
# the release's feeder_ucla follows (batch 16, 52 frames, train set
# repeated 5 times, view rotation, scale, min-max): one person, so the
# persistence encodings are not tiled.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/blockgcn.py', '../_base_/datasets/nwucla.py'
]
num_classes = 10
model = dict(
    backbone=dict(graph_cfg=dict(layout='nwucla'), num_person=1),
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
auto_scale_lr = dict(base_batch_size=16)
max_epochs = 140
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    # 5 warm-up epochs: .01 .02 .03 .04 .05 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[110, 120], gamma=0.1,
         by_epoch=True, begin=0),
]
# lr 0.05: BlockGCN's final release (7b45971, 2024-07-25) uses 0.05 in
# every NTU YAML (0.1 only in the first upload c10e471, changed in c2bafbe
# 2023-11-19) and has no UCLA YAML; chosen: the final NTU value.
# Switch: --cfg-options optim_wrapper.optimizer.lr=0.1
optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=4e-4))
