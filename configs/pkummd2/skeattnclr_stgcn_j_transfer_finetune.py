# Transfer (beyond the paper, the release's config/SkeAttnCLR/transfer
# recipe): the SkeAttnCLR joint ST-GCN pretrained on NTU RGB+D 60 X-Sub,
# finetuning (all layers, BN statistics fixed, lr 0.008, wd 0,
# 150 epochs, x0.1 at 60 and 100; the release ships joint only)
# on PKU-MMD Part II cross-subject (51 classes). Only the query backbone is
# loaded (prefix 'backbone.'); the FC is new.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
ann_file = 'data/pkummd/pkummd2.pkl'
missing_hint = (
    'Convert PKU-MMD Part II: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd2.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data).')
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 51
data = dict(ann_file=ann_file, num_classes=num_classes,
            missing_hint=missing_hint)
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split, stream=stream))
val_dataloader = dict(dataset=dict(**data, split=test_split, stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.008))
