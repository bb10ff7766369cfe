# HCN (released huguyuehuhu/HCN-pytorch model/HCN.py, its 32-frame runs
# HCN01) + HCNHead (person max-fusion, fc7 512, dropout 0.5, fc8).
# conv2 has as many channels as the window (released), so the head's input
# is 256 * (32 // 16) * (32 // 16) = 1024; a template with another clip
# length sets conv2_channels = clip_len and in_channels accordingly.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='HCN',
        graph_cfg=dict(layout='nturgb+d'),
        in_channels=3,
        num_person=2,
        base_channels=64,
        conv2_channels=32),
    cls_head=dict(
        type='HCNHead',
        num_classes=60,
        in_channels=256 * (32 // 16)**2,
        hidden_channels=512,
        dropout=0.5))
