"""EpochSeedHook's record of the initial weights: the fingerprint covers
what a method shares with its baseline (backbone, classifier) and nothing
else, and only a run that starts from scratch writes it (the seeding itself
is tested end to end by tests/tools/test_experiment.py)."""
import json
from types import SimpleNamespace

import torch
import torch.nn as nn

from mmskelcl.engine.epoch_seed_hook import (INITIAL_WEIGHTS, EpochSeedHook,
                                             initial_fingerprint)


def _state():
    torch.manual_seed(0)
    return {'backbone.conv.weight': torch.randn(4, 3),
            'backbone.bn.num_batches_tracked': torch.tensor(0),
            'cls_head.fc.weight': torch.randn(2, 4),
            'aux_heads.0.proj.weight': torch.randn(5, 4)}


def test_fingerprint_covers_backbone_and_classifier_only():
    base = initial_fingerprint(_state())
    assert len(base) == 16 and base == initial_fingerprint(_state())
    other = _state()
    other['aux_heads.0.proj.weight'] += 1  # a method's own head: ignored
    other['aux_heads.1.w'] = torch.ones(1)
    assert initial_fingerprint(other) == base
    for key, change in [
            ('backbone.conv.weight', lambda t: t.index_put_(
                (torch.tensor([0]), torch.tensor([0])), t[0, 0] + 1e-3)),
            ('cls_head.fc.weight', lambda t: t.double()),  # dtype counts
            ('backbone.conv.weight', lambda t: t.reshape(3, 4))]:
        s = _state()
        s[key] = change(s[key])
        assert initial_fingerprint(s) != base, key
    s = _state()
    s['backbone.extra'] = torch.zeros(0)  # a new shared entry counts
    assert initial_fingerprint(s) != base


class _Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(3, 4)
        self.cls_head = nn.Linear(4, 2)


def test_written_on_a_fresh_start_only(tmp_path):
    model = _Model()
    runner = SimpleNamespace(iter=0, model=model, work_dir=str(tmp_path),
                             seed=7)
    EpochSeedHook().before_train(runner)
    with open(tmp_path / INITIAL_WEIGHTS) as f:
        rec = json.load(f)
    assert rec == dict(fingerprint=initial_fingerprint(model.state_dict()),
                       seed=7)
    # a resumed run (iteration > 0) keeps the first start's record
    with torch.no_grad():
        model.backbone.weight += 1
    EpochSeedHook().before_train(SimpleNamespace(
        iter=12, model=model, work_dir=str(tmp_path), seed=7))
    with open(tmp_path / INITIAL_WEIGHTS) as f:
        assert json.load(f) == rec
