# 2s-AGCN on NW-UCLA: the template of agcn_{j,b,jm,bm}.py. 2s-AGCN has no
# released NW-UCLA run; CSRE trains it "with the training strategies of
# CTR-GCN", so this is CTR-GCN's UCLA recipe and data (batch 16, SGD 0.1
# nesterov, wd 1e-4, 5 warm-up epochs, 65 epochs, x0.1 at 50, 52 frames,
# train set x5 per epoch). The NW-UCLA graph is the released one.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/agcn.py', '../_base_/datasets/nwucla.py'
]
num_classes = 10
model = dict(
    backbone=dict(graph_cfg=dict(layout='nwucla'), num_person=1),
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
auto_scale_lr = dict(base_batch_size=16)
param_scheduler = [
    # 5 warm-up epochs: 0.02 0.04 0.06 0.08 0.1 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[50], gamma=0.1, by_epoch=True,
         begin=0, end=65),
]
