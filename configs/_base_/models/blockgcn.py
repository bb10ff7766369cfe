# BlockGCN (released architecture, ZhouYuxuanYX/BlockGCN model/BlockGCN.py)
# + MMAction2's GCNHead. Templates set the layout, persons and classes.
# The persistence encoding reads the joints that every stream file appends
# to its stream (dataset stream=(STREAM, 'j'), topo_channels=3), as the
# release feeds each stream's model the joints. released_batch_coupling=True
# reproduces the release's batch-level min-max and person tiling (a clip's
# encoding then depends on its batch-mates); False gives each clip its own.
# Classifier init N(0, sqrt(2 / K)) as released.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='BlockGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        in_channels=3,
        topo_channels=3,
        num_person=2,
        released_batch_coupling=False),
    cls_head=dict(
        type='GCNHead',
        num_classes=60,
        in_channels=256,
        init_cfg=dict(type='NormalWeight', layer='Linear',
                      std=(2 / 60)**0.5)))
