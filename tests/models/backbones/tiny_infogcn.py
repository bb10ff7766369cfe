"""Tiny InfoGCN configs for the tap-contract and frozen-stage tests."""
TINY = {
    'InfoGCN': (dict(type='InfoGCN', graph_cfg=dict(layout='nwucla'),
                     num_person=1, base_channels=16), (2, 1, 13, 20, 3)),
}
