# SkeletonGCL (ICLR'23) on CTR-GCN, as released: R+H negatives (two row
# sets per positive), hard positives, anchors skipped until the bank holds
# N+ positives and N_c negatives, and the projection frozen at its random
# init (the released Linear is not in the optimizer). Per-stream
# temperatures of the released scripts are set in the stream files.
# Template of skeletongcl_ctrgcn_{j,b,jm,bm}.py.
_base_ = ['./_base_ctrgcn.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN', aux_heads=dict(graph={{_base_.skeletongcl}}))
custom_hooks = [dict(type='MemoryBankHook')]
