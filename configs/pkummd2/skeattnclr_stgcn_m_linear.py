# Linear evaluation (released schedule: lr 3.0, 150 epochs, x0.1 at 60 and
# 100) of the SkeAttnCLR motion ST-GCN on PKU-MMD Part II cross-subject:
# frozen backbone in eval mode, FC only. Pretrained checkpoint: `pretrained`.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'jm'
pretrained = 'work_dirs/pkummd2/skeattnclr_stgcn_m_pretrain/epoch_300.pth'
ann_file = 'data/pkummd/pkummd2.pkl'
missing_hint = (
    'Convert PKU-MMD Part II: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd2.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data).')
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 51
data = dict(ann_file=ann_file, num_classes=num_classes,
            missing_hint=missing_hint)
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split, stream=stream))
val_dataloader = dict(dataset=dict(**data, split=test_split, stream=stream))
test_dataloader = val_dataloader
