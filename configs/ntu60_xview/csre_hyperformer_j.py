# CSRE on Hyperformer, ntu60_xview: hyperformer_j.py plus the training-only
# CSRE head and nothing else (switches:
# configs/_base_/models/aux_heads.py); checkpoints load into hyperformer_j.py.
_base_ = ['./hyperformer_j.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN',
    num_frames={{_base_.clip_len}},
    aux_heads=dict(csre={{_base_.csre}}))
custom_hooks = [dict(type='MemoryBankHook')]
