# Linear evaluation (released schedule: lr 3.0, 150 epochs, x0.1 at 60 and
# 100) of the SkeAttnCLR bone ST-GCN on NTU RGB+D 120 X-Set: frozen backbone
# in eval mode, FC only. Pretrained checkpoint: `pretrained`.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'b'
pretrained = 'work_dirs/ntu120_xset/skeattnclr_stgcn_b_pretrain/epoch_300.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
