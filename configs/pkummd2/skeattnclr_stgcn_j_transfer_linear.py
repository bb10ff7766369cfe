# Transfer (beyond the paper, the release's config/SkeAttnCLR/transfer recipe):
# the SkeAttnCLR joint ST-GCN pretrained on NTU RGB+D 60 X-Sub, linear
# evaluation (frozen backbone in eval mode, FC only) on PKU-MMD Part II
# cross-subject (51 classes); SGD lr 3.0, wd 0, 150 epochs, x0.1 at [60, 100].
# Only the query backbone is loaded (prefix 'backbone.'); the FC is new.
# released: config/SkeAttnCLR/transfer/joint/linear_eval_xsub.yaml
# (GitHubOfHyl97/SkeAttnCLR).
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'j'
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(dataset=dict(stream=stream))
val_dataloader = dict(dataset=dict(stream=stream))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=3.0))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100],
         gamma=0.1)
]
