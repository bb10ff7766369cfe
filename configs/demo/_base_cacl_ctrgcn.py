# CACL on the demo set: the demo CTR-GCN plus the graph contrastive head,
# with N+ and N_c scaled to the demo's bank (240 clips, 30 per class).
_base_ = ['./_base_ctrgcn.py']
model = dict(
    type='AuxRecognizerGCN',
    aux_heads=dict(
        graph=dict(
            type='GraphContrastHead',  # sized from the backbone's taps
            sampler=dict(num_pos=16, num_neg=64))))
custom_hooks = [dict(type='MemoryBankHook')]
