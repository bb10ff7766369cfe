"""Tiny BlockGCN configs for the tap-contract and frozen-stage tests."""
TINY = {
    'BlockGCN': (dict(type='BlockGCN', graph_cfg=dict(layout='nwucla'),
                      num_person=1, base_channels=16, n_elements=8),
                 (2, 1, 13, 20, 3)),
}
