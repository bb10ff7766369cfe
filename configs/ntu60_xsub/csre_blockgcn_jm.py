# CSRE on BlockGCN, ntu60_xsub: blockgcn_jm.py plus the training-only
# CSRE head and nothing else (switches:
# configs/_base_/models/aux_heads.py); checkpoints load into blockgcn_jm.py.
_base_ = ['./blockgcn_jm.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN',
    num_frames={{_base_.clip_len}},
    aux_heads=dict(csre={{_base_.csre}}))
custom_hooks = [dict(type='MemoryBankHook')]
