# SkeAttnCLR evaluation on PKU-MMD Part I (cross-subject): the data
# of every linear, finetune and semi-supervised stream config here (which set
# the stream, the pretrained checkpoint and their schedule). Recipe:
# configs/_base_/skeattnclr_stgcn_downstream.py.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
ann_file = 'data/pkummd/pkummd1.pkl'
missing_hint = (
    'Convert PKU-MMD Part I: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd1.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data).')
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 51
data = dict(ann_file=ann_file, num_classes=num_classes,
            missing_hint=missing_hint)
model = dict(cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split))
val_dataloader = dict(dataset=dict(**data, split=test_split))
test_dataloader = val_dataloader
