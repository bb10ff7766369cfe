"""Tiny 2s-AGCN for the tap contract / frozen-stage tests."""
TINY = {
    'AGCN': (dict(type='AGCN', graph_cfg=dict(layout='nwucla'), num_person=1,
                  base_channels=8), (2, 1, 13, 20, 3)),
}
