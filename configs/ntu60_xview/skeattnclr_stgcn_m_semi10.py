# Semi-supervised finetuning with 10% of the labels (class-balanced, seeded
# subset written once into the pickle's split by tools/data/make_semi_splits.py
# as 'xview_train_semi10'), SkeAttnCLR joint motion ST-GCN, NTU RGB+D 60
# X-View; SGD lr 0.003, wd 0, 150 epochs, x0.1 at [60, 100].
# released: config/SkeAttnCLR/NTU60/motion/semiFT0.1_eval_xview.yaml
# (GitHubOfHyl97/SkeAttnCLR).
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'jm'
pretrained = 'work_dirs/ntu60_xview/skeattnclr_stgcn_m_pretrain/epoch_300.pth'
semi_split = 'xview_train_semi10'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(split=semi_split, stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.003))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100],
         gamma=0.1)
]
