# SkeletonGCL (ICLR'23) on CTR-GCN, as released: R+H negatives (two row
# sets per positive), hard positives, anchors skipped until the bank holds
# N+ positives and N_c negatives, and the projection frozen at its random
# init (the released Linear is not in the optimizer). Per-stream
# temperatures of the released scripts are set in the stream files.
# Template of skeletongcl_ctrgcn_{j,b,jm,bm}.py.
# NW-UCLA: the bank holds one slot per sample (sample_idx modulo the
# repeat), about 100 per class < N+ = 128, so anchors use the
# positives they have instead of being skipped (SkeletonGCL's
# 5 x 1020 slots kept repeated copies apart).
_base_ = ['./_base_cacl_ctrgcn.py']
model = dict(
    aux_heads=dict(
        graph=dict(
            proj_trainable=False,
            sampler=dict(
                neg_strategy='R+H',
                min_pos_policy='use_available',
                min_neg_policy='skip'))))
