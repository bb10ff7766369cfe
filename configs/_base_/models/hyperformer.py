# Hyperformer (released model/Hyperformer.py, 9 heads x 24 = 216 channels)
# + MMAction2's GCNHead (mean over T, V, then persons, as released).
# Templates set the layout, persons, classes and the body-part partition
# `joint_label` of the layout and stream (hop distances come from the
# layout's edges). Classifier init N(0, sqrt(2 / K)) on the weight, bias at
# PyTorch's default, as released; templates override `std` with their K.
# The released runs train with AMP (use_amp=True in main.py): add --amp to
# tools/train.py on a GPU for the same numerics.
ntu_joint_label = [0, 4, 2, 2, 2, 2, 1, 1, 2, 2, 1, 1, 2, 3, 3, 3, 2, 3, 3, 3,
                   1, 0, 1, 0, 1]  # released NTU configs, every stream
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='Hyperformer',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        joint_label=ntu_joint_label,
        in_channels=3,
        num_person=2),
    cls_head=dict(
        type='GCNHead',
        num_classes=60,
        in_channels=216,
        init_cfg=dict(type='NormalWeight', layer='Linear',
                      std=(2 / 60)**0.5)))
