# NTU RGB+D 60/120 3D as HCN's released runs read it (HCN-pytorch
# experiments/NTU-RGB-D-*/HCN01/params.json, feeder/tools.py): crop of the
# valid frames, p ~ U(0.5, 1) with at least 64 frames (train) or the centre
# 0.95 (test), resized to 32 frames; no rotation. Deviation: the release
# subtracts person 1's spine of *every* frame (origin_transfer 0); this
# pipeline centres on the spine of the first frame (CenterJoint, the
# CTR-GCN preprocessing of the other NTU configs), so the input keeps the
# global trajectory.
_base_ = ['./ntu3d.py']
clip_len = 32
meta_keys = ('frame_dir', 'sample_idx', 'total_frames')
train_pipeline = [
    dict(type='CenterJoint', joint=1),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(0.5, 1.0),
         min_frames=64),
    dict(type='GenStreamFeat', layout='nturgb+d'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='CenterJoint', joint=1),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(0.95, ),
         test_mode=True),
    dict(type='GenStreamFeat', layout='nturgb+d'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
