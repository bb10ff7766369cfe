# CACL on the demo set: the demo CTR-GCN plus the graph contrastive head,
# with N+ and N_c scaled to the demo's bank (240 clips, 30 per class).
_base_ = ['./_base_ctrgcn.py']
model = dict(
    type='AuxRecognizerGCN',
    aux_heads=dict(
        graph=dict(
            type='GraphContrastHead',
            in_dim=3 * 17 * 17,
            num_classes=8,
            sampler=dict(num_pos=16, num_neg=64))))
custom_hooks = [dict(type='MemoryBankHook')]
