# FR-Head on ST-GCN++ (MMAction2's STGCN with gcn_adaptive='init',
# gcn_with_res=True, tcn_type='mstcn'), NTU RGB+D 60 X-Sub: the template of
# frhead_stgcnpp_{j,b,jm,bm}.py, and the example of FR-Head on another
# backbone from config alone. `STGCNTaps` is MMAction2's `STGCN` plus taps
# (same modules and state_dict keys), so a checkpoint trained here loads into
# stgcnpp_<stream>.py (type='STGCN'). The tap points and their sizes are
# those of CTR-GCN (blocks 1, 5, 8, 10: 64/128/256/256 channels, temporal
# strides 1/2/4/4), so the FR-Head config and recipe of
# _base_frhead_ctrgcn.py apply unchanged. For AAGCN use type='AAGCNTaps'.
_base_ = ['./_base_frhead_ctrgcn.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='STGCNTaps',
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    cls_head=dict(_delete_=True, type='GCNHead', num_classes=60,
                  in_channels=256))
