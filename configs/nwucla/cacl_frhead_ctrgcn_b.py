# CACL + FR-Head on CTR-GCN, NW-UCLA: ctrgcn_b.py plus
# the training-only heads, each as in its own config here
# (FR-Head: CFR V0); docs/combined.md. Checkpoints load
# into ctrgcn_b.py.
_base_ = ['./ctrgcn_b.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN', num_frames={{_base_.clip_len}},
    aux_heads=dict(graph={{_base_.cacl}},
                   fr={{_base_.frhead_v0}}))
custom_hooks = [dict(type='MemoryBankHook')]
# one bank slot per repeated copy (5 x 1,020), as released
train_dataloader = dict(
    dataset=dict(type='IndexedRepeatDataset', index_per_copy=True))
