# Finetuning of the SkeAttnCLR joint motion ST-GCN on PKU-MMD Part I
# cross-subject (the release ships no PKU-MMD finetune config; its recipe for
# NTU60 X-Sub and for the NTU60 -> PKU-MMD II transfer: all layers train, BN
# statistics fixed (norm_eval), dropout off, lr 0.008, wd 0, 150 epochs, x0.1
# at 60 and 100). The paper's schedule: _finetune_paper.py.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'jm'
pretrained = 'work_dirs/pkummd1/skeattnclr_stgcn_m_pretrain/epoch_300.pth'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.008))
