# CACL + FR-Head + CSRE on CTR-GCN, FineGym99: ctrgcn_b.py plus
# the training-only heads, each as in its own config here
# (FR-Head: CFR V1); docs/combined.md. Checkpoints load
# into ctrgcn_b.py.
_base_ = ['./ctrgcn_b.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN', num_frames={{_base_.clip_len}},
    aux_heads=dict(graph={{_base_.cacl}},
                   fr={{_base_.frhead_v1}},
                   csre={{_base_.csre}}))
custom_hooks = [dict(type='MemoryBankHook')]
