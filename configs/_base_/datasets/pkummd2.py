# PKU-MMD Part II (large view variation): ./pkummd.py with pkummd2.pkl.
_base_ = ['./pkummd.py']
ann_file = 'data/pkummd/pkummd2.pkl'
missing_hint = (
    'Convert PKU-MMD Part II: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd2.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data).')
data = dict(ann_file=ann_file, missing_hint=missing_hint)
train_dataloader = dict(dataset=dict(**data))
val_dataloader = dict(dataset=dict(**data))
test_dataloader = val_dataloader
