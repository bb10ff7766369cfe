# NTU RGB+D 60/120 3D as 2s-AGCN's released runs read it
# (lshiwjx/2s-AGCN data_gen/ntu_gendata.py + preprocess.py, feeder with
# window_size -1 and no augmentation): 2s-AGCN's pre-normalisation (centre
# on the spine, spine -> z axis, shoulders -> x axis; MMAction2's
# PreNormalize3D is that code), the whole sequence loop-padded to 300
# frames, no crop, rotation or other augmentation, train and test alike.
_base_ = ['./ntu3d.py']
clip_len = 300
train_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='PadTo', length=clip_len, mode='loop'),
    dict(type='PoseDecode'),
    dict(type='GenStreamFeat', layout='nturgb+d'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs',
         meta_keys=('frame_dir', 'sample_idx', 'total_frames')),
]
test_pipeline = train_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
