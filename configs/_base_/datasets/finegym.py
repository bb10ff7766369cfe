# FineGym99, 2D HRNet COCO-17 keypoints with scores (PySKL gym_hrnet.pkl /
# MMAction2 gym_2d.pkl), splits train/val, one person. Input channels are
# (x, y, score). Stream: the dataset's `stream` fills GenStreamFeat.feats.
ann_file = 'data/finegym/gym_hrnet.pkl'
missing_hint = (
    'Download PySKL\'s FineGym 2D skeletons: wget https://download.openmmlab'
    '.com/mmaction/pyskl/data/gym/gym_hrnet.pkl -P data/finegym/ (or MMAction2'
    '\'s gym_2d.pkl and set ann_file).')
num_classes = 99
clip_len = 64
num_person = 1
stream = 'j'
meta_keys = ('frame_dir', 'sample_idx', 'total_frames')

train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenStreamFeat', layout='coco'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenStreamFeat', layout='coco'),
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenStreamFeat', layout='coco'),
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=10,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
dataset_common = dict(
    type='SkeletonDataset', ann_file=ann_file, num_classes=num_classes,
    missing_hint=missing_hint, stream=stream)
train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), drop_last=True,
    dataset=dict(**dataset_common, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset_common, split='val', pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset_common, split='val', pipeline=test_pipeline,
                 test_mode=True))
# Evaluation protocol: FineGym99 has no validation split apart from the
# test split, so val_dataloader reads the test split. Validation only
# monitors training and never selects a checkpoint: report the last one.
val_is_test = True
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

