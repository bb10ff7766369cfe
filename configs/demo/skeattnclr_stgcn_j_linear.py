# Linear probe of the demo pretraining (configs/demo/skeattnclr_stgcn_j_
# pretrain.py): frozen quarter-width ST-GCN in eval mode, FC only, on the demo
# set's labelled train split; top-1 on its val split. `make demo-skeattnclr`
# also runs it with `model.backbone.init_cfg=None` (a randomly initialised
# frozen backbone, same seed) as the reference. Released linear recipe
# (SGD lr 3.0, momentum 0.9, wd 0) on a 30-epoch schedule, x0.1 at 20.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
pretrained = 'work_dirs/demo_skeattnclr/pretrain/epoch_30.pth'
ann_file = 'data/demo/finegym_demo.pkl'
num_classes = 8
clip_len = 32
max_epochs = 30
missing_hint = ('Generate it: python -m mmskelcl.utils.demo_data '
                'data/demo/finegym_demo.pkl (make demo does this).')
model = dict(
    backbone=dict(graph_cfg=dict(layout='coco'), base_channels=16,
                  init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes, in_channels=64))
pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='UniformSampleFrames', clip_len=clip_len, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='GenStreamFeat', layout='coco'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs'),
]
dataset = dict(type='SkeletonDataset', ann_file=ann_file,
               missing_hint=missing_hint, num_classes=num_classes,
               stream='j', pipeline=pipeline)
loader = dict(batch_size=32, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(**dataset, split='train'))
val_dataloader = dict(**loader, dataset=dict(**dataset, split='val',
                                             test_mode=True))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[20], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs),
                     logger=dict(interval=5))
