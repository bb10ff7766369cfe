# 2s-AGCN on ntu120_xsub (3D, 25 joints, 2 persons): the template of
# agcn_{j,b,jm,bm}.py; the released recipe, shared by the NTU
# benchmarks, is ../_base_/recipes/agcn_ntu.py.
_base_ = ['../_base_/recipes/agcn_ntu.py']
num_classes = 120
ann_file = 'data/nturgbd/ntu120_3d.pkl'
model = dict(
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_train'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes, split='xsub_val'))
test_dataloader = val_dataloader
