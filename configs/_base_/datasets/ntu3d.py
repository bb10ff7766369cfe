# NTU RGB+D 60/120, 3D Kinect joints (MMAction2 ntu60_3d.pkl /
# ntu120_3d.pkl, or tools/data/ntu_to_pkl.py), 25 joints, 2 persons.
# CTR-GCN recipe: origin at joint 2 (spine) of the first frame (SGN/CTR-GCN
# preprocessing; MMAction2's PreNormalize3D also aligns axes, swap it in with
# --cfg-options if wanted), crop-and-resize of the valid frames to 64
# (p in [0.5, 1] train, centre 0.95 test), random rotation +-0.3 rad.
# Persons: NTU60's released data (CTR-GCN family seq_transformation.py)
# zero-pads a one-person clip's second slot; NTU120's copies the actor
# there. The pipelines leave FormatGCNInput's mode unset; the NTU120
# templates set the dataset's person_pad='loop' (SkeletonDataset fills it
# in), --cfg-options {train,val,test}_dataloader.dataset.person_pad=zero
# switches back.
# Benchmark templates override ann_file / splits / num_classes by merging.
ann_file = 'data/nturgbd/ntu60_3d.pkl'
missing_hint = (
    'Download MMAction2\'s NTU 3D skeletons: wget https://download.openmmlab'
    '.com/mmaction/v1.0/skeleton/data/ntu60_3d.pkl -P data/nturgbd/ (ntu120_3d'
    '.pkl for NTU120). MMAction2\'s file uses splits xsub_train/xsub_val/'
    'xview_* (NTU60) and xsub_*/xset_* (NTU120).')
clip_len = 64
num_person = 2
stream = 'j'
meta_keys = ('frame_dir', 'sample_idx', 'total_frames')

train_pipeline = [
    dict(type='CenterJoint', joint=1),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(0.5, 1.0)),
    dict(type='RandomRotation', theta=0.3),
    dict(type='GenStreamFeat', layout='nturgb+d'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
# FR-Head's released runs add symmetric random bone-length scaling (+-0.2)
# after the rotation.
bone_scale_train_pipeline = train_pipeline[:3] + [
    dict(type='RandomBoneScale', scale=0.2, layout='nturgb+d')
] + train_pipeline[3:]
test_pipeline = [
    dict(type='CenterJoint', joint=1),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(0.95, ),
         test_mode=True),
    dict(type='GenStreamFeat', layout='nturgb+d'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
# Hyperformer's released feeders also centre every frame on the layout's
# centre joint (joint 21), which keeps its trajectory, before the bone /
# motion conversion (GenStreamFeat frame_center).
frame_center_train_pipeline = [
    dict(step, frame_center=True) if step['type'] == 'GenStreamFeat' else step
    for step in train_pipeline
]
frame_center_test_pipeline = [
    dict(step, frame_center=True) if step['type'] == 'GenStreamFeat' else step
    for step in test_pipeline
]
# InfoGCN's released NTU input is body-aligned (its main.py loads
# *_aligned.npz, made by utils.py align_skeleton from the centred data):
# each person rotated into axes taken from its first frame (AlignSkeleton),
# after the centring and before the crop.
aligned_train_pipeline = train_pipeline[:1] + [
    dict(type='AlignSkeleton')
] + train_pipeline[1:]
aligned_test_pipeline = test_pipeline[:1] + [
    dict(type='AlignSkeleton')
] + test_pipeline[1:]
dataset_common = dict(
    type='SkeletonDataset', ann_file=ann_file, missing_hint=missing_hint,
    stream=stream)
train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), drop_last=True,
    dataset=dict(**dataset_common, split='xsub_train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset_common, split='xsub_val', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
# Evaluation protocol: NTU RGB+D 60/120 has no validation split apart from the
# test split, so val_dataloader reads the test split. Validation only
# monitors training and never selects a checkpoint: report the last one.
val_is_test = True
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
