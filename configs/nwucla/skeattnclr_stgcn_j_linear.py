# Linear probe of the NW-UCLA SkeAttnCLR pretraining (configs/nwucla/
# skeattnclr_stgcn_j_pretrain.py): frozen ST-GCN in eval mode, FC only,
# trained on the labelled train split (views 1, 2), tested on view 3. The
# released linear recipe (SGD lr 3.0, momentum 0.9, wd 0, 150 epochs, x0.1
# at 60 and 100); the README's reduced run overrides the schedule. With
# model.backbone.init_cfg=None it is the random frozen backbone reference.
_base_ = ['../_base_/skeattnclr_stgcn_downstream.py']
pretrained = 'work_dirs/nwucla/skeattnclr_stgcn_j_pretrain/epoch_300.pth'
ann_file = 'data/nwucla/nwucla.pkl'
num_classes = 10
clip_len = 52
missing_hint = (
    'Get NW-UCLA\'s all_sqe/*.json skeletons and convert them: python '
    'tools/data/nwucla_to_pkl.py path/to/all_sqe data/nwucla/nwucla.pkl')
model = dict(
    backbone=dict(graph_cfg=dict(layout='nwucla'),
                  init_cfg=dict(checkpoint=pretrained)),
    cls_head=dict(num_classes=num_classes))
pipeline = [
    dict(type='CenterJointPerFrame', joint=2),
    dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(1.0, ),
         test_mode=True),
    dict(type='AlignShoulders', left=8, right=4),
    dict(type='GenStreamFeat', layout='nwucla'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs'),
]
dataset = dict(type='SkeletonDataset', ann_file=ann_file,
               missing_hint=missing_hint, num_classes=num_classes,
               stream='j', pipeline=pipeline)
loader = dict(batch_size=64, num_workers=2, persistent_workers=True)
train_dataloader = dict(**loader, dataset=dict(**dataset, split='train'))
val_dataloader = dict(**loader, dataset=dict(**dataset, split='val',
                                             test_mode=True))
test_dataloader = val_dataloader
