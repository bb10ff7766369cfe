# Linear evaluation (released schedule: lr 3.0, 150 epochs, x0.1 at 60 and
# 100) of the SkeAttnCLR joint ST-GCN on PKU-MMD Part II cross-subject:
# frozen backbone in eval mode, FC only. Pretrained checkpoint: `pretrained`.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'j'
pretrained = 'work_dirs/pkummd2/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
