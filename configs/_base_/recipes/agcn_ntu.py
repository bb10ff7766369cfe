# 2s-AGCN's released NTU recipe (lshiwjx/2s-AGCN config/nturgbd-cross-
# subject/train_joint.yaml; NTU60 only: 2s-AGCN predates NTU120, whose
# folders use it unchanged): SGD 0.1 nesterov, wd 1e-4, batch 64, 50
# epochs, x0.1 at 30 and 40, no warm-up; whole sequences padded to 300
# frames, no augmentation; the released graph (layout nturgb+d_agcn). The
# paper's 2s = agcn_j + agcn_b fused. CSRE instead trains 2s-AGCN with
# CTR-GCN's recipe (ctrgcn_*.py's data and schedule).
# configs/ntu*/_base_agcn.py add the benchmark.
_base_ = [
    '../default_runtime.py', '../schedules/sgd_warmup_step.py',
    '../models/agcn.py', '../datasets/ntu3d_agcn.py'
]
model = dict(
    backbone=dict(graph_cfg=dict(layout='nturgb+d_agcn'), num_person=2))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', milestones=[30, 40], gamma=0.1, by_epoch=True,
         begin=0)
]
