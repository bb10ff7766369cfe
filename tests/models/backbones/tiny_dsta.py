"""Tiny DSTA-Net for the tap contract / frozen-stage tests (three blocks,
one stride 2; the clip must have ``num_frames`` frames)."""
TINY = {
    'DSTANet': (dict(type='DSTANet', graph_cfg=dict(layout='nturgb+d'),
                     num_frames=8, layers=((8, 8, 4, 1), (8, 16, 4, 2),
                                           (16, 16, 4, 1))),
                (2, 2, 8, 25, 3)),
}
