# Finetuning of the SkeAttnCLR joint ST-GCN on NTU RGB+D 60 X-Sub (released:
# all layers train, BN statistics fixed (norm_eval), dropout off, lr 0.008, wd
# 0, 150 epochs, x0.1 at 60 and 100). The paper's schedule (lr 0.05, reduce on
# plateau): _finetune_paper.py.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
ann_file = 'data/nturgbd/ntu60_3d.pkl'
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 60
data = dict(ann_file=ann_file, num_classes=num_classes)
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(**data, split=train_split, stream=stream))
val_dataloader = dict(dataset=dict(**data, split=test_split, stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.008))
