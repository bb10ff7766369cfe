# Linear evaluation of the SkeAttnCLR joint ST-GCN on NTU RGB+D 60 X-View:
# frozen backbone in eval mode, FC only; SGD lr 3.0, wd 0, 150 epochs, x0.1 at
# [60, 100]. The paper's schedule: _linear_paper.py.
# released: config/SkeAttnCLR/NTU60/joint/linear_eval_xview.yaml
# (GitHubOfHyl97/SkeAttnCLR).
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu60_xview/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=3.0))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100],
         gamma=0.1)
]
