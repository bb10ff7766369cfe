# Finetuning of the SkeAttnCLR joint ST-GCN on PKU-MMD Part I cross-subject:
# all layers train, BN statistics fixed (norm_eval), dropout off; SGD lr 0.008,
# wd 0, 150 epochs, x0.1 at [60, 100]. The paper's schedule (lr 0.05, reduce on
# plateau): _finetune_paper.py.
# not released: chosen as NTU60 X-Sub's released recipe of the same stream and
# protocol, config/SkeAttnCLR/NTU60/joint/FT_eval_xsub.yaml.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'j'
pretrained = 'work_dirs/pkummd1/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.008))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100],
         gamma=0.1)
]
