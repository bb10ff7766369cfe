# InfoGCN on NW-UCLA: the template of infogcn_{j,b,jm,bm}.py. The release
# publishes only its NTU command; its feeder_ucla is CTR-GCN's (52 frames,
# train set repeated 5 times). Chosen: InfoGCN's optimizer and schedule
# (SGD 0.1 nesterov, wd 5e-4, 5 warm-up epochs, 110 epochs, x0.1 at 90 and
# 100, lambda_1 1e-4, lambda_2 0.1, z_prior_gain 3, noise_ratio 0.5, k=1
# over the release's UCLA tree) with CTR-GCN's UCLA batch of 16 and data
# recipe (../_base_/datasets/nwucla.py), since no UCLA values are released.
# Added (not released): gradient-norm clipping at 1. The released head
# initialisation (Xavier fc/fc_mu/fc_logvar, decoder N(0, 2/K), K = 10
# here) gives logits of ~40 from mu and ~100 from the sampled latent on a
# real NW-UCLA batch (label-smoothed CE 27-44 at init with the release's own
# model code, three seeds; ln 10 = 2.3 expected); unclipped, the first SGD
# steps push logvar to ~1000 and the loss to thousands within three
# iterations (then NaN with the release's std clamp; InfoGCNHead's keeps the
# gradients finite). The release fails the same way on NW-UCLA
# (stnoah1/infogcn issue #5: apex skips every step until its loss scale
# underflows). Remove with optim_wrapper.clip_grad=None.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_warmup_step.py',
    '../_base_/models/infogcn.py', '../_base_/datasets/nwucla.py'
]
num_classes = 10
model = dict(
    backbone=dict(graph_cfg=dict(layout='nwucla'), num_person=1),
    cls_head=dict(num_classes=num_classes))
auto_scale_lr = dict(base_batch_size=16)
max_epochs = 110
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    # 5 warm-up epochs: .02 .04 .06 .08 .1 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[90, 100], gamma=0.1,
         by_epoch=True, begin=0),
]
optim_wrapper = dict(
    optimizer=dict(lr=0.1, weight_decay=5e-4), clip_grad=dict(max_norm=1.))
