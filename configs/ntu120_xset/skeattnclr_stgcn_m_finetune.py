# Finetuning of the SkeAttnCLR joint motion ST-GCN on NTU RGB+D 120 X-Set: all
# layers train, BN statistics fixed (norm_eval), dropout off; SGD lr 0.01, wd
# 0, 150 epochs, x0.1 at [60, 100]. The paper's schedule (lr 0.05, reduce on
# plateau): _finetune_paper.py.
# not released: chosen as NTU120 joint's released finetune (the released
# config/SkeAttnCLR/NTU120/motion/FT_eval_xview.yaml says lr 3.0, but the file
# equals config/SkeAttnCLR/NTU120/motion/linear_eval_xview.yaml except its
# work_dir: a copy of the linear config, and lr 3.0 on all layers diverges;
# optim_wrapper.optimizer.lr=3.0 restores it),
# config/SkeAttnCLR/NTU120/joint/FT_eval_xview.yaml.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'jm'
pretrained = 'work_dirs/ntu120_xset/skeattnclr_stgcn_m_pretrain/epoch_300.pth'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100],
         gamma=0.1)
]
