# Finetuning of the SkeAttnCLR bone ST-GCN on NTU RGB+D 120 X-Sub: all layers
# train, BN statistics fixed (norm_eval), dropout off; SGD lr 0.01, wd 0, 150
# epochs, x0.1 at [60, 100]. The paper's schedule (lr 0.05, reduce on plateau):
# _finetune_paper.py.
# not released: chosen as NTU120 joint's released finetune (the released
# config/SkeAttnCLR/NTU120/bone/FT_eval_xsub.yaml says lr 3.0, but the file
# equals config/SkeAttnCLR/NTU120/bone/linear_eval_xsub.yaml except its
# work_dir: a copy of the linear config, and lr 3.0 on all layers diverges;
# optim_wrapper.optimizer.lr=3.0 restores it),
# config/SkeAttnCLR/NTU120/joint/FT_eval_xsub.yaml.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'b'
pretrained = 'work_dirs/ntu120_xsub/skeattnclr_stgcn_b_pretrain/epoch_300.pth'
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
