# Linear evaluation (released schedule: lr 3.0, 150 epochs, x0.1 at 60 and
# 100) of the SkeAttnCLR joint ST-GCN on NTU RGB+D 120 X-Set: frozen backbone
# in eval mode, FC only. Pretrained checkpoint: `pretrained`.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu120_xset/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
ann_file = 'data/nturgbd/ntu120_3d.pkl'
train_split, test_split, num_classes = 'xset_train', 'xset_val', 120
data = dict(ann_file=ann_file, num_classes=num_classes)
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split, stream=stream))
val_dataloader = dict(dataset=dict(**data, split=test_split, stream=stream))
test_dataloader = val_dataloader
