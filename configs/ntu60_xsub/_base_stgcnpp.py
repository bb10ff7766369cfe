# ST-GCN++ (PySKL/MMAction2: MMAction2's STGCN with a learnable graph,
# residual GCN and multi-scale TCN) on NTU RGB+D 60 X-Sub, with the data pipeline and
# recipe of this folder's CTR-GCN template, so backbones compare under one
# recipe. The template of stgcnpp_{j,b,jm,bm}.py.
_base_ = ['./_base_ctrgcn.py']
model = dict(
    _delete_=True,
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=256))
