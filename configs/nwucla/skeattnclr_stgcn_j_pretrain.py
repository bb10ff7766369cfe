# SkeAttnCLR pretraining on NW-UCLA (not in the paper): the real-data check
# of the method on this project's smallest benchmark. Labels are not used:
# the train split (views 1 and 2, 1,020 clips) is pretrained on, kNN reads
# the train split as bank and view 3 as queries. The NTU recipe
# (configs/_base_/skeattnclr_stgcn_pretrain.py) with NW-UCLA's layout:
# 20 joints, 1 person, centring on the shoulder centre (joint 2, the NTU
# spine-shoulder joint 20 of the release), shoulders 4/8 aligned, valid
# frames resized to 52 (CTR-GCN's NW-UCLA length), five body parts of the
# Kinect v1 skeleton. Batch 64 and queue 512 (half of the 1,020 clips: a
# longer queue would hold each clip's stale key as a negative). 300 epochs
# is the NTU schedule; the README's reduced run overrides max_epochs.
_base_ = ['../_base_/skeattnclr_stgcn_pretrain.py']
ann_file = 'data/nwucla/nwucla.pkl'
num_classes = 10
clip_len = 52
missing_hint = (
    'Get NW-UCLA\'s all_sqe/*.json skeletons and convert them: python '
    'tools/data/nwucla_to_pkl.py path/to/all_sqe data/nwucla/nwucla.pkl')
ucla_parts = ((0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11), (12, 13, 14, 15),
              (16, 17, 18, 19))
model = dict(
    layout='nwucla',
    backbone=dict(graph_cfg=dict(layout='nwucla')),
    mix=dict(parts=ucla_parts),
    queue_len=512)
preprocess = [
    dict(type='CenterJointPerFrame', joint=2),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(1.0, ),
         test_mode=True),
    dict(type='AlignShoulders', left=8, right=4),
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
loader = dict(batch_size=64, num_workers=2, persistent_workers=True)
train_dataloader = dict(
    **loader, drop_last=True,
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    **loader, dataset=dict(**dataset, split='val', pipeline=test_pipeline,
                           test_mode=True))
val_cfg = dict(bank_dataloader=dict(
    **loader, dataset=dict(**dataset, split='train', pipeline=test_pipeline,
                           test_mode=True)))
