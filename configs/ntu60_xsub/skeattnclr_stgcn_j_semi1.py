# Semi-supervised finetuning with 1% of the labels (class-balanced, seeded
# subset written once into the pickle's split by tools/data/make_semi_splits.py
# as 'xsub_train_semi1'), SkeAttnCLR joint ST-GCN, NTU RGB+D 60 X-Sub; SGD lr
# 0.005, wd 0, 150 epochs, x0.1 at [50, 100].
# released: config/SkeAttnCLR/NTU60/joint/semiFT0.01_eval_xsub.yaml
# (GitHubOfHyl97/SkeAttnCLR).
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
semi_split = 'xsub_train_semi1'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(split=semi_split, stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[50, 100],
         gamma=0.1)
]
