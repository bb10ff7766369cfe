# FR-Head (Zhou et al., CVPR'23) on CTR-GCN, FineGym99: the template
# of frhead_ctrgcn_{j,b,jm,bm}.py.
# No released FR-Head run exists for this benchmark:
# this folder's CTR-GCN recipe (180 epochs, x0.1 at 75 and 115); no bone
# scaling (2D keypoints with missing joints); CFR V1 (FR-Head has no FineGym
# run; V1 is the paper's Eq. 6/7).
# Switches (--cfg-options model.aux_heads.fr.KEY=VALUE):
#   cfr.version=V0|V1  decouple=False (no ST decoupling)
#   taps="['block10']" (single level)  cfr.use_fn=False  cfr.use_fp=False
#   stages.block5.weight=0.2  loss_weight=0.1  cfr.temperature=0.125
#   cfr.alpha=0.125  cfr.momentum=0.9  cfr.pred_threshold=0.0
#   start_epoch=0  cfr.unseen=random|mask  cfr.proto_grad=True
# The head is training-only: a checkpoint loads into ctrgcn_<stream>.py.
_base_ = ['./_base_ctrgcn.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN',
    num_frames={{_base_.clip_len}},  # sizes the heads' time axes
    aux_heads=dict(fr={{_base_.frhead_v1}}))
