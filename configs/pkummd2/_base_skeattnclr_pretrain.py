# SkeAttnCLR pretraining on PKU-MMD Part II (cross-subject): the data
# of every stream's skeattnclr_*_pretrain.py (which set only the stream).
# Recipe and switches:
# configs/_base_/skeattnclr_stgcn_pretrain.py.
_base_ = ['../_base_/skeattnclr_stgcn_pretrain.py']
ann_file = 'data/pkummd/pkummd2.pkl'
missing_hint = (
    'Convert PKU-MMD Part II: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd2.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data).')
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 51
data = dict(ann_file=ann_file, num_classes=num_classes,
            missing_hint=missing_hint)
train_dataloader = dict(dataset=dict(**data, split=train_split))
val_dataloader = dict(dataset=dict(**data, split=test_split))
val_cfg = dict(bank_dataloader=dict(dataset=dict(**data, split=train_split)))
