# NW-UCLA (Kinect v1, 20 joints, 1 person, 10 classes), converted from
# all_sqe/*.json by tools/data/nwucla_to_pkl.py: split train (views 1, 2)
# and val (view 3). CTR-GCN feeder recipe: origin at joint 2 of frame 0,
# random view rotation +-60 deg about x/y and scale 0.5-1.5 (train),
# min-max to [-1, 1], 52 frames (random sorted sampling / linspace), train
# set repeated 5 times per epoch.
ann_file = 'data/nwucla/nwucla.pkl'
missing_hint = (
    'Get NW-UCLA\'s all_sqe/*.json skeletons (the layout of the CTR-GCN code '
    'base, data/NW-UCLA/all_sqe) and convert them: python '
    'tools/data/nwucla_to_pkl.py path/to/all_sqe data/nwucla/nwucla.pkl')
num_classes = 10
clip_len = 52
num_person = 1
stream = 'j'
meta_keys = ('frame_dir', 'sample_idx', 'total_frames')

train_pipeline = [
    dict(type='CenterJoint', joint=1, frame=0),
    dict(type='RandomViewTransform', rot_range=60, scale_range=(0.5, 1.5)),
    dict(type='MinMaxNormalize', low=-1, high=1),
    dict(type='RandomSortedSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='GenStreamFeat', layout='nwucla'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='CenterJoint', joint=1, frame=0),
    dict(type='MinMaxNormalize', low=-1, high=1),
    dict(type='RandomSortedSampleFrames', clip_len=clip_len, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='GenStreamFeat', layout='nwucla'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
# Hyperformer's released feeder also centres every frame on the layout's
# centre joint (joint 3, shoulder centre), which keeps its trajectory,
# before the bone / motion conversion (GenStreamFeat frame_center).
frame_center_train_pipeline = [
    dict(step, frame_center=True) if step['type'] == 'GenStreamFeat' else step
    for step in train_pipeline
]
frame_center_test_pipeline = [
    dict(step, frame_center=True) if step['type'] == 'GenStreamFeat' else step
    for step in test_pipeline
]
dataset_common = dict(
    type='SkeletonDataset', ann_file=ann_file, num_classes=num_classes,
    missing_hint=missing_hint, stream=stream)
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), drop_last=True,
    dataset=dict(
        type='RepeatDataset', times=5,
        dataset=dict(**dataset_common, split='train',
                     pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset_common, split='val', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
# Evaluation protocol: NW-UCLA has no validation split apart from the
# test split, so val_dataloader reads the test split. Validation only
# monitors training and never selects a checkpoint: report the last one.
val_is_test = True
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
