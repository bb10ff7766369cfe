# The NW-UCLA linear probe (skeattnclr_stgcn_j_linear.py) with a BatchNorm
# (no affine) between pooling and FC (ProbeHead feat_norm='bn', as MAE's
# linear probing): the same frozen backbone, recipe and lr 3.0, but the FC
# sees standardised features, so a pretrained and a random frozen backbone
# are compared on what their features encode rather than on their scale
# (docs/skeattnclr.md). Not in the paper or the release.
_base_ = ['./skeattnclr_stgcn_j_linear.py']
model = dict(cls_head=dict(type='ProbeHead', feat_norm='bn'))
