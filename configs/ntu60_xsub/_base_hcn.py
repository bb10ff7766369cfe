# HCN on ntu60_xsub (3D, 25 joints, 2 persons): the template of
# hcn_{j,b,jm,bm}.py. Recipe of huguyuehuhu/HCN-pytorch (released
# experiments/NTU-RGB-D-CS/HCN01/params.json): Adam 1e-3, wd 1e-4, x0.99 per
# epoch, 400 epochs, batch 64, gradient clipping at 32, 32-frame crop-resize.
# Streams: HCN derives its motion stream from its input, so hcn_j is the
# released HCN (coordinates + motion, the paper's and CSRE's "2S" cell); hcn_b
# / hcn_jm / hcn_bm run the same model on bones / joint motion / bone motion
# (not in the HCN or CSRE papers), for 4-stream ensembling.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/hcn_adam_exp.py',
    '../_base_/models/hcn.py', '../_base_/datasets/ntu3d_hcn.py'
]
num_classes = 60
ann_file = 'data/nturgbd/ntu60_3d.pkl'
model = dict(
    backbone=dict(graph_cfg=dict(layout='nturgb+d'), num_person=2),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_train'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_val'))
test_dataloader = val_dataloader
