# CSRE on Hyperformer, nwucla: hyperformer_j.py plus the training-only
# CSRE head and nothing else (switches:
# configs/_base_/models/aux_heads.py); checkpoints load into hyperformer_j.py.
_base_ = ['./hyperformer_j.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN',
    num_frames={{_base_.clip_len}},
    aux_heads=dict(csre={{_base_.csre}}))
custom_hooks = [dict(type='MemoryBankHook')]
# one bank slot per repeated copy (5 x 1,020), as released
train_dataloader = dict(
    dataset=dict(type='IndexedRepeatDataset', index_per_copy=True))
