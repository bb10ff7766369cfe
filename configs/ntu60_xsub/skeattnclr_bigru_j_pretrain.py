# SkeAttnCLR pretraining with the BiGRU encoder (paper Table 2, "BIGRU"),
# NTU RGB+D 60 X-Sub, joint stream: the ST-GCN config with the encoder
# (and the neck's width) swapped; every other setting is the ST-GCN recipe.
# Released net/utils/GRU.py with the GRU neck: per frame one 150-d vector
# (25 joints x 3 x 2 persons), 3 bidirectional GRU layers of 1024 units
# (2048-d steps; mode='released': both directions run forward in time,
# as the release's frame-by-frame loop computes them). The MHSAM attends
# over the 64 steps; global and masked features are read at the last step
# (neck pool='last'); projector 2048 -> 1024 -> 128.
_base_ = ['./skeattnclr_stgcn_j_pretrain.py']
model = dict(
    backbone=dict(
        _delete_=True, type='BiGRU', graph_cfg=dict(layout='nturgb+d'),
        in_channels=3, num_person=2, hidden_channels=1024, num_layers=3,
        mode='released'),
    neck=dict(in_channels=2048, pool='last', projector=dict(
        in_channels=2048, hid_channels=1024)))
