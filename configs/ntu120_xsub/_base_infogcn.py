# InfoGCN on ntu120_xsub (3D, 25 joints, 2 persons): the template of
# infogcn_{j,b,jm,bm}.py; the released recipe, shared by the NTU
# benchmarks, is ../_base_/recipes/infogcn_ntu.py.
_base_ = ['../_base_/recipes/infogcn_ntu.py']
num_classes = 120
ann_file = 'data/nturgbd/ntu120_3d.pkl'
model = dict(
    cls_head=dict(num_classes=num_classes))
# The released NTU120 data copies a one-person clip's actor into the
# second person slot (seq_transformation.py); person_pad='zero' pads zeros.
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_train', person_pad='loop'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xsub_val', person_pad='loop'))
test_dataloader = val_dataloader
