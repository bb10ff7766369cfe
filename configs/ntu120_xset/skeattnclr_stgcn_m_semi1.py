# Semi-supervised finetuning with 1% of the labels (class-balanced, seeded
# subset written once into the pickle's split by
# tools/data/make_semi_splits.py as 'xset_train_semi1'), SkeAttnCLR joint
# motion ST-GCN, NTU RGB+D 120 X-Set; released lr 0.008, x0.1 at [50, 100].
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'jm'
pretrained = 'work_dirs/ntu120_xset/skeattnclr_stgcn_m_pretrain/epoch_300.pth'
ann_file = 'data/nturgbd/ntu120_3d.pkl'
train_split, test_split, num_classes = 'xset_train', 'xset_val', 120
data = dict(ann_file=ann_file, num_classes=num_classes)
semi_split = train_split + '_semi1'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=semi_split, stream=stream))
val_dataloader = dict(dataset=dict(**data, split=test_split, stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.008))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[50, 100], gamma=0.1)
]
