# PKU-MMD Part I (pkummd1.pkl) / Part II (pkummd2.pkl), 3D Kinect v2 joints
# (the NTU 'nturgb+d' layout, 25 joints, <= 2 persons, 51 classes), one clip
# per labelled action (tools/data/pkummd_to_pkl.py; splits xsub_* and
# xview_*). The NTU 3D pipelines of ./ntu3d.py; Part II: pkummd2.py. Other
# splits: --cfg-options train_dataloader.dataset.split=xview_train ...
_base_ = ['./ntu3d.py']
ann_file = 'data/pkummd/pkummd1.pkl'
num_classes = 51
missing_hint = (
    'Convert PKU-MMD: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd1.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data).')
data = dict(ann_file=ann_file, missing_hint=missing_hint)
train_dataloader = dict(dataset=dict(**data, split='xsub_train'))
val_dataloader = dict(dataset=dict(**data, split='xsub_val'))
test_dataloader = val_dataloader
