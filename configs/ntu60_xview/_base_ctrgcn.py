# CTR-GCN on ntu60_xview (3D, 25 joints, 2 persons): the template of
# ctrgcn_{j,b,jm,bm}.py. CTR-GCN recipe: batch 64, SGD 0.1 nesterov,
# wd 4e-4, 5 warm-up epochs, 65 epochs, x0.1 at 35 and 55.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/ctrgcn.py', '../_base_/datasets/ntu3d.py'
]
num_classes = 60
ann_file = 'data/nturgbd/ntu60_3d.pkl'
# The released graph (CTR-GCN graph/ntu_rgb_d.py, also FR-Head's and
# SkeletonGCL's): hand tip -> thumb -> hand, the layout 'nturgb+d_agcn';
# --cfg-options model.backbone.graph_cfg.layout=nturgb+d gives MMAction2's
# (tip and thumb both on the hand). ST-GCN++ (stgcnpp_*) keeps PySKL's.
model = dict(
    backbone=dict(graph_cfg=dict(layout='nturgb+d_agcn'), num_person=2),
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xview_train'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes, split='xview_val'))
test_dataloader = val_dataloader
