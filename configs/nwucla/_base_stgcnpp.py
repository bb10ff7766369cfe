# ST-GCN++ (PySKL/MMAction2: MMAction2's STGCN with a learnable graph,
# residual GCN and multi-scale TCN) on NW-UCLA, with the data pipeline and
# recipe of this folder's CTR-GCN template, so backbones compare under one
# recipe. The template of stgcnpp_{j,b,jm,bm}.py.
_base_ = ['./_base_ctrgcn.py']
# MMAction2's STGCN builds its own Graph, which knows no 'nwucla' name:
# the layout is spelled out (equal to mmskelcl.datasets.layouts.
# NWUCLA_LAYOUT; tests/test_configs.py checks it).
nwucla_layout = dict(
    num_node=20,
    inward=[
        (0, 1), (1, 2), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6),
        (8, 2), (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13),
        (15, 14), (16, 0), (17, 16), (18, 17), (19, 18)
    ],
    center=2)
model = dict(
    _delete_=True,
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        graph_cfg=dict(layout=nwucla_layout, mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=10, in_channels=256))
