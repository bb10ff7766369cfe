# 2s-AGCN (released lshiwjx/2s-AGCN model/agcn.py) + MMAction2's GCNHead.
# Templates set the layout, persons and classes. NTU uses the released graph
# ('nturgb+d_agcn': hand tip -> thumb -> hand, as graph/ntu_rgb_d.py), which
# a fixed-adjacency model needs for released checkpoints to give released
# logits. Classifier init as released (model/agcn.py): N(0, sqrt(2 / K)) on
# the weight, the bias left at PyTorch's default U(+-1/sqrt(256));
# --cfg-options model.cls_head.init_cfg.type=Normal sets the bias to 0.
# Seed: the release's init_seed uses 1 (main.py), as randomness.seed here.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='AGCN',
        graph_cfg=dict(layout='nturgb+d_agcn', mode='spatial'),
        in_channels=3,
        num_person=2),
    cls_head=dict(
        type='GCNHead',
        num_classes=60,
        in_channels=256,
        init_cfg=dict(type='NormalWeight', layer='Linear',
                      std=(2 / 60)**0.5)))
