# CTR-GCN (official architecture) + MMAction2's GCNHead. Templates set the
# layout, persons and classes. The classifier init is the official
# N(0, sqrt(2 / K)); templates override `std` with their K.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        in_channels=3,
        num_person=2),
    cls_head=dict(
        type='GCNHead',
        num_classes=60,
        in_channels=256,
        init_cfg=dict(type='Normal', layer='Linear', std=(2 / 60)**0.5)))
