# Linear evaluation, paper schedule (lr 3.0, 100 epochs, x0.1 at 60), of the
# SkeAttnCLR joint ST-GCN on NTU RGB+D 120 X-Set.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu120_xset/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=100)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60], gamma=0.1)
]
