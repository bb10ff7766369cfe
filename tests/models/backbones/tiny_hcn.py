"""Tiny HCN for the tap contract / frozen-stage tests."""
TINY = {
    'HCN': (dict(type='HCN', graph_cfg=dict(layout='nturgb+d'),
                 base_channels=8, conv2_channels=16), (2, 2, 32, 25, 3)),
}
