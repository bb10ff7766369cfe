"""MMAction2 1.2.0 ``BaseHead.loss_by_feat`` fails under bfloat16 autocast.

It computes the logged top-k accuracy with ``cls_scores.cpu().numpy()``,
and NumPy has no bfloat16 ("TypeError: Got unsupported ScalarType
BFloat16"), so every recognizer head breaks ``--amp`` training with
bfloat16 (the CPU's autocast dtype). The fix casts reduced-precision
scores to float32 before the original method: the accuracy and the
cross-entropy are then computed in float32 (autocast would upcast the
cross-entropy anyway). float32 scores pass through unchanged.
"""
import functools

import torch

_LOW = (torch.float16, torch.bfloat16)


def apply_amp_head_fix() -> None:
    """Wrap ``BaseHead.loss_by_feat`` once (idempotent)."""
    from mmaction.models.heads.base import BaseHead
    original = BaseHead.loss_by_feat
    if getattr(original, '_mmskelcl_float_scores', False):
        return

    @functools.wraps(original)
    def loss_by_feat(self, cls_scores, data_samples):
        if isinstance(cls_scores, torch.Tensor) and \
                cls_scores.dtype in _LOW:
            cls_scores = cls_scores.float()
        return original(self, cls_scores, data_samples)

    loss_by_feat._mmskelcl_float_scores = True
    BaseHead.loss_by_feat = loss_by_feat
