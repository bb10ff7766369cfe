# InfoGCN on ntu60_xview (3D, 25 joints, 2 persons): the template of
# infogcn_{j,b,jm,bm}.py; the released recipe, shared by the NTU
# benchmarks, is ../_base_/recipes/infogcn_ntu.py.
_base_ = ['../_base_/recipes/infogcn_ntu.py']
num_classes = 60
ann_file = 'data/nturgbd/ntu60_3d.pkl'
model = dict(
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xview_train'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xview_val'))
test_dataloader = val_dataloader
