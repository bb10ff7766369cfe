"""BankContrast under autocast: the float32 similarity (default) gives the
loss of a run without AMP; ``fp32_similarity=False`` keeps autocast's
bf16 matmul, as the released code under AMP, and its loss moves."""
import copy

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from mmskelcl.models.memory import BankContrast


def _loss(unit, z, labels, idx, amp):
    torch.manual_seed(1)  # the same random negatives every call
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        return unit(z, labels, idx)['loss_contrast'].float()


def test_fp32_similarity_switch_under_autocast():
    MessageHub.get_current_instance().update_info('epoch', 0)
    torch.manual_seed(0)
    unit = BankContrast(dim=64, bank=dict(size=32),
                        sampler=dict(num_pos=4, num_neg=8))
    labels = torch.arange(32) % 4
    unit.bank.update(F.normalize(torch.randn(32, 64), dim=1), labels,
                     torch.arange(32))
    z = F.normalize(torch.randn(8, 64), dim=1)
    lab, idx = labels[:8], torch.arange(8)
    ref = _loss(copy.deepcopy(unit), z, lab, idx, amp=False)
    guarded = _loss(copy.deepcopy(unit), z, lab, idx, amp=True)
    torch.testing.assert_close(guarded, ref)
    unit.fp32_similarity = False
    half = _loss(copy.deepcopy(unit), z, lab, idx, amp=True)
    assert 1e-5 < abs(half - ref) < 0.05 * ref  # bf16 rounding, not a bug
