# CTR-GCN on FineGym99 (2D COCO-17, 1 person): the template of
# ctrgcn_{j,b,jm,bm}.py. Recipe of CACL's FineGym runs: batch 64, SGD 0.1
# nesterov, wd 4e-4, 5 warm-up epochs, 180 epochs, x0.1 at 75 and 115.
# Mean-class top-1 (FineGym's metric) is reported with top-1 for the last
# checkpoint. No best checkpoint is kept: Gym99's only held-out split is the
# test split, and selecting an epoch on it would be test-set selection (the
# released CACL code does that). With a separate validation split, select
# by the published metric: default_hooks.checkpoint.save_best=acc/mean1.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/ctrgcn.py', '../_base_/datasets/finegym.py'
]
num_classes = 99
model = dict(
    backbone=dict(graph_cfg=dict(layout='coco'), num_person=1),
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
train_cfg = dict(max_epochs=180)
param_scheduler = [
    # 5 warm-up epochs: 0.02 0.04 0.06 0.08 0.1 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[75, 115], gamma=0.1, by_epoch=True,
         begin=0, end=180),
]
