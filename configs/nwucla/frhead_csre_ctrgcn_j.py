# FR-Head + CSRE on CTR-GCN, NW-UCLA: ctrgcn_j.py plus
# the training-only heads, each as in its own config here
# (FR-Head: CFR V0); docs/combined.md. Checkpoints load
# into ctrgcn_j.py.
_base_ = ['./ctrgcn_j.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN', num_frames={{_base_.clip_len}},
    aux_heads=dict(fr={{_base_.frhead_v0}},
                   csre={{_base_.csre}}))
custom_hooks = [dict(type='MemoryBankHook')]
# one bank slot per repeated copy (5 x 1,020), as released
train_dataloader = dict(
    dataset=dict(type='IndexedRepeatDataset', index_per_copy=True))
