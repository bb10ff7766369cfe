# Downstream evaluation of a SkeAttnCLR-pretrained ST-GCN: RecognizerGCN +
# GCNHead (pool over T', V, then persons, then FC), the pretraining's
# preprocessing without augmentation, the stream made in the pipeline (same
# arithmetic as the model's in-model conversion; without augmentation the
# two commute). The template of configs/<dataset>/skeattnclr_stgcn_<s>_
# {linear,linear_paper,finetune,semi1,semi10}.py.
# Graph: the release's 2s-AGCN NTU graph ('nturgb+d_agcn'; MMAction2's:
# model.backbone.graph_cfg.layout=nturgb+d). Training loader drop_last=True
# as released (train_dataloader.drop_last=False: keep the last batch).
# Defaults: linear evaluation as released (frozen backbone kept in eval mode:
# BN statistics and dropout fixed; only the FC trains), SGD lr 3.0, momentum
# 0.9, wd 0, batch 128, 150 epochs, x0.1 at 60 and 100; FC init N(0, 0.02).
# The pretrained query backbone is loaded alone (prefix 'backbone.'): the
# neck, predictors, key encoder and queue are dropped. `pretrained` defaults
# to the last checkpoint of the matching pretraining config; override with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH.
_base_ = ['./default_runtime.py']

stream = 'j'  # 'j', 'b' or 'jm' (the pretraining's 'm')
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
ann_file = 'data/nturgbd/ntu60_3d.pkl'
train_split, test_split, num_classes = 'xsub_train', 'xsub_val', 60
missing_hint = (
    'Download MMAction2\'s NTU 3D skeletons: wget https://download.openmmlab'
    '.com/mmaction/v1.0/skeleton/data/ntu60_3d.pkl -P data/nturgbd/ (ntu120_3d'
    '.pkl for NTU120). Semi-supervised splits: python tools/data/'
    'make_semi_splits.py ANN_FILE --split xsub_train --ratios 0.01 0.1.')
clip_len = 64

model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCNTaps',
        graph_cfg=dict(layout='nturgb+d_agcn', mode='spatial'),  # released
        in_channels=3,
        base_channels=64,
        tcn_dropout=0.0,  # the release evaluates in eval() mode
        frozen_stages=10,  # data BN + the 10 blocks: a linear probe
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    cls_head=dict(
        type='GCNHead', num_classes=num_classes, in_channels=256,
        dropout=0.0,
        init_cfg=dict(type='Normal', layer='Linear', std=0.02, bias=0.0)))

# the pretraining's preprocessing (released; switches there)
preprocess = [
    dict(type='CenterJointPerFrame', joint=20),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(1.0, ),
         test_mode=True, valid_joint=0),
    dict(type='AlignShoulders', left=8, right=4, sign='sequence'),
]
pipeline = preprocess + [
    dict(type='GenStreamFeat', layout='nturgb+d'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
dataset = dict(type='SkeletonDataset', ann_file=ann_file,
               missing_hint=missing_hint, num_classes=num_classes,
               stream=stream, pipeline=pipeline)
# drop_last=True as the release's training loader (processor.py)
train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split=train_split))
val_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, split=test_split, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
# NTU: validation reads the test split and only monitors; report the last
# epoch (the release reports the best test epoch: optimistic).
val_is_test = True

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=150, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=3.0, momentum=0.9, weight_decay=0.0,
                   nesterov=False))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 100], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=128)
