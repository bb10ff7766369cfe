# SkeletonGCL (ICLR'23) on CTR-GCN, as released: R+H negatives (two row
# sets per positive), hard positives, anchors skipped until the bank holds
# N+ positives and N_c negatives, and the projection frozen at its random
# init (the released Linear is not in the optimizer). Per-stream
# temperatures of the released scripts are set in the stream files.
# Template of skeletongcl_ctrgcn_{j,b,jm,bm}.py.
# NW-UCLA: as released, the bank holds one slot per repeated copy
# (5 x 1,020 = 5,100, about 510 per class; see _base_cacl_ctrgcn.py), so
# N+ = 128 is met and anchors are skipped only while the bank fills. With
# train_dataloader.dataset.index_per_copy=False (1,020 slots, ~100 per
# class) add ...graph.sampler.min_pos_policy=use_available, or every
# anchor is skipped.
_base_ = ['./_base_ctrgcn.py', '../_base_/models/aux_heads.py']
model = dict(
    type='AuxRecognizerGCN', aux_heads=dict(graph={{_base_.skeletongcl}}))
custom_hooks = [dict(type='MemoryBankHook')]
# a sample_idx per repeated copy (MemoryBankHook sizes the bank to 5,100)
train_dataloader = dict(
    dataset=dict(type='IndexedRepeatDataset', index_per_copy=True))
