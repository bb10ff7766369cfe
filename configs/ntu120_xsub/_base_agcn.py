# 2s-AGCN on ntu120_xsub (3D, 25 joints, 2 persons): the template of
# agcn_{j,b,jm,bm}.py. Recipe of lshiwjx/2s-AGCN (no released NTU120 config;
# the released NTU60 recipe): SGD 0.1 nesterov, wd 1e-4, batch 64, 50 epochs,
# x0.1 at 30 and 40, no warm-up; whole sequences padded to 300 frames, no
# augmentation. (2s-AGCN predates NTU120: its NTU60 recipe is used unchanged).
# The paper's 2s = agcn_j + agcn_b fused. CSRE instead trains 2s-AGCN with
# CTR-GCN's recipe (ctrgcn_*.py's data and schedule).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/agcn.py', '../_base_/datasets/ntu3d_agcn.py'
]
num_classes = 120
ann_file = 'data/nturgbd/ntu120_3d.pkl'
model = dict(
    backbone=dict(graph_cfg=dict(layout='nturgb+d_agcn'), num_person=2),
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', milestones=[30, 40], gamma=0.1, by_epoch=True,
         begin=0)
]
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_train'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_val'))
test_dataloader = val_dataloader
