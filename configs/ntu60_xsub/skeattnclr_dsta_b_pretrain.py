# SkeAttnCLR pretraining with the DSTA-Net encoder (paper Table 2,
# "Transformer (DSTA)"),
# NTU RGB+D 60 X-Sub, bone stream: the ST-GCN config with the encoder
# (and the neck's width) swapped; every other setting is the ST-GCN recipe.
# The release's DSTA (net/dsta.py): 8 spatial-temporal attention blocks,
# 64 -> 256 channels, 64 frames -> 16, so its (N, M, 256, 16, 25) map
# goes through the ST-GCN neck unchanged (400 tokens per person).
_base_ = ['./skeattnclr_stgcn_b_pretrain.py']
model = dict(
    backbone=dict(
        _delete_=True, type='DSTANet', graph_cfg=dict(layout='nturgb+d'),
        in_channels=3, num_person=2, num_frames=64))
