# Linear evaluation, paper schedule (lr 3.0, 100 epochs, x0.1 at 60), of the
# SkeAttnCLR bone ST-GCN on NTU RGB+D 60 X-Sub.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'b'
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_stgcn_b_pretrain/epoch_300.pth'
ann_file = 'data/nturgbd/ntu60_3d.pkl'
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 60
data = dict(ann_file=ann_file, num_classes=num_classes)
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split, stream=stream))
val_dataloader = dict(dataset=dict(**data, split=test_split, stream=stream))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=100)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60], gamma=0.1)
]
