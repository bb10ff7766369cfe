# Finetuning of the SkeAttnCLR bone ST-GCN on PKU-MMD Part II cross-subject
# (the release ships no PKU-MMD finetune config; its recipe for NTU60 X-Sub and
# for the NTU60 -> PKU-MMD II transfer: all layers train, BN statistics fixed
# (norm_eval), dropout off, lr 0.008, wd 0, 150 epochs, x0.1 at 60 and 100).
# The paper's schedule: _finetune_paper.py.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'b'
pretrained = 'work_dirs/pkummd2/skeattnclr_stgcn_b_pretrain/epoch_300.pth'
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
