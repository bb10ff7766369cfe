# SkeAttnCLR pretraining on the bundled 2D demo set (240 train clips, COCO-17
# x, y + score, 1 person; labels unused), `make demo-skeattnclr`. The NTU
# recipe (configs/_base_/skeattnclr_stgcn_pretrain.py) at CPU size: ST-GCN
# at quarter width (16 base channels, 64-d final feature), clip 32, batch
# 32, 30 epochs, queue 256 (about one epoch of keys: a longer queue would hold
# stale copies of the same 240 clips as negatives), no lr step. The release's
# 3D preprocessing (spine centring, shoulder alignment) has no 2D
# counterpart here: PreNormalize2D maps the image to [-1, 1]; the shear is
# its 2D x-y block. Body parts of the mix: COCO head, arms, legs.
_base_ = ['../_base_/skeattnclr_stgcn_pretrain.py']
ann_file = 'data/demo/finegym_demo.pkl'
num_classes = 8
clip_len = 32
max_epochs = 30
missing_hint = ('Generate it: python -m mmskelcl.utils.demo_data '
                'data/demo/finegym_demo.pkl (make demo does this).')
coco_parts = ((0, 1, 2, 3, 4), (5, 7, 9), (6, 8, 10), (11, 13, 15),
              (12, 14, 16))
model = dict(
    layout='coco',
    backbone=dict(graph_cfg=dict(layout='coco'), base_channels=16),
    neck=dict(in_channels=64, projector=dict(in_channels=64)),
    mix=dict(parts=coco_parts, num_parts=(2, 3), temporal_units=(3, 5)),
    queue_len=256)
preprocess = [
    dict(type='PreNormalize2D'),
    dict(type='UniformSampleFrames', clip_len=clip_len, test_mode=True),
    dict(type='PoseDecode'),
]
train_pipeline = preprocess + [
    dict(type='ContrastiveViews', num_views=2, transforms=[
        dict(type='TemporalMirrorCrop', padding_ratio=6),
        dict(type='RandomShear', amplitude=0.5)]),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs'),
]
test_pipeline = preprocess + [
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs'),
]
dataset = dict(type='SkeletonDataset', ann_file=ann_file,
               missing_hint=missing_hint, num_classes=num_classes)
loader = dict(batch_size=32, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, dataset=dict(**dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    **loader, dataset=dict(**dataset, split='val', pipeline=test_pipeline,
                           test_mode=True))
val_cfg = dict(bank_dataloader=dict(
    **loader, dataset=dict(**dataset, split='train', pipeline=test_pipeline,
                           test_mode=True)))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[max_epochs],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs),
                     logger=dict(interval=5))
