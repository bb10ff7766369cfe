# Semi-supervised finetuning with 10% of the labels (class-balanced, seeded
# subset written once into the pickle's split by tools/data/make_semi_splits.py
# as 'xsub_train_semi10'), SkeAttnCLR bone ST-GCN, PKU-MMD Part I
# cross-subject; SGD lr 0.005, wd 0, 150 epochs, x0.1 at [60, 100].
# not released: chosen as NTU60 X-Sub's released recipe of the same stream and
# protocol, config/SkeAttnCLR/NTU60/bone/semiFT0.1_eval_xsub.yaml.
# drop_last=False (the release's loaders drop the last batch; not released for
# PKU-MMD): PKU-MMD II's 1 % subset (about 53 clips) is smaller than one batch
# of 128, so dropping it would train nothing, and Part I's 1 % (about 188)
# would lose a third of its clips every epoch.
_base_ = ['./_base_skeattnclr_downstream.py']
stream = 'b'
pretrained = 'work_dirs/pkummd1/skeattnclr_stgcn_b_pretrain/epoch_300.pth'
missing_hint = (
    'Convert PKU-MMD Part I: python tools/data/pkummd_to_pkl.py SKELETON_DIR '
    'LABEL_DIR data/pkummd/pkummd1.pkl --xsub XSUB_LIST --xview XVIEW_LIST '
    '(README: Real data). Semi-supervised splits: python '
    'tools/data/make_semi_splits.py ANN_FILE --split xsub_train --ratios '
    '0.01 0.1.')
semi_split = 'xsub_train_semi10'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=dict(checkpoint=pretrained)))
train_dataloader = dict(
    drop_last=False,
    dataset=dict(split=semi_split, stream=stream, missing_hint=missing_hint))
val_dataloader = dict(dataset=dict(stream=stream, missing_hint=missing_hint))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100],
         gamma=0.1)
]
