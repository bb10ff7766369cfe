"""Tiny Hyperformer for the tap contract and frozen-stage tests: 2 heads x
6 channels (12, divisible by the 6 projection groups and the 4 TCN
branches), NW-UCLA layout with the released joint-stream partition."""
TINY = {
    'Hyperformer': (dict(type='Hyperformer', graph_cfg=dict(layout='nwucla'),
                         joint_label=[0] * 4 + [1] * 8 + [2] * 8,
                         num_person=1, num_heads=2, head_channels=6),
                    (2, 1, 13, 20, 3)),
}
