# CSRE on the demo set: the demo CTR-GCN plus the training-only CSRE head
# (defaults and switches: configs/_base_/models/aux_heads.py), with the
# sampler counts scaled to the demo's bank as CACL's demo does (240
# clips, 30 per class): 16 hard positives, 64 hard + 64 random negatives
# instead of 128 / 512 / 512; an anchor short of them is skipped, as
# released. STFD is sized from the taps: C 128 (half width), C/r 16,
# J 17 (COCO-17), T' 8 (32 frames / 4).
_base_ = ['./_base_ctrgcn.py']
model = dict(
    type='AuxRecognizerGCN',
    num_frames={{_base_.clip_len}},
    aux_heads=dict(csre=dict(
        type='CSREHead', sampler=dict(num_pos=16, num_neg=64))))
custom_hooks = [dict(type='MemoryBankHook')]
