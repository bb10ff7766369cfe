# CTR-GCN (official architecture) + MMAction2's GCNHead. Templates set the
# layout, persons and classes. The classifier init is the official
# N(0, sqrt(2 / K)) on the weight, the bias left at PyTorch's default
# U(+-1/sqrt(256)) as released; templates override `std` with their K.
# --cfg-options model.cls_head.init_cfg.type=Normal sets the bias to 0.
# The backbone's init_cfg=None is the released init (multi-scale TCN BN
# weights ~ N(1, 0.02)); model.backbone.init_cfg.type=CTRGCNInit
# model.backbone.init_cfg.tcn_bn_std=0 sets them to 1.
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
        init_cfg=dict(type='NormalWeight', layer='Linear',
                      std=(2 / 60)**0.5)))
