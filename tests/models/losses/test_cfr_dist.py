"""Prototypes under torch.distributed: two CPU processes (gloo) with
different batches (3 and 2 samples) end with identical prototypes, equal to
one process updating from the concatenated batch (the EMA of the global TP
mean), even when the ranks started from different random prototypes."""
import pytest
import torch

from mmskelcl.models.losses import CFRLoss

from dist_helpers import needs_gloo, run_ranks
from frhead_helpers import HIDDEN, IN_DIM, K, dist_worker, full_batch

WORLD = 2

pytestmark = needs_gloo


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('frhead_dist')
    return run_ranks(dist_worker, tmp, WORLD)


def test_ranks_agree_after_every_update(results):
    r0, r1 = results
    for step in (0, 1):
        assert torch.equal(r0['protos'][step], r1['protos'][step])
        assert torch.equal(r0['updates'][step], r1['updates'][step])


def test_update_uses_the_global_batch(results):
    torch.manual_seed(0)  # the workers' initialisation
    ref = CFRLoss(IN_DIM, K, hidden_channels=HIDDEN, momentum=0.9)
    init = ref.prototypes.clone()
    for step in (0, 1):
        x, logits, labels = full_batch(step, WORLD)
        ref(x, logits, labels)
        torch.testing.assert_close(results[0]['protos'][step],
                                   ref.prototypes)
        assert torch.equal(results[0]['updates'][step], ref.proto_updates)
    # class 0 (TP on both ranks) and class 1 (TP on rank 1 only) moved;
    # class 2 (no TP anywhere) kept its initial prototype
    assert results[0]['updates'][1].tolist() == [2., 2., 0.]
    assert torch.equal(results[0]['protos'][1][2], init[2])


def test_differently_initialised_ranks_are_synchronised(results):
    r0, r1 = results
    keys = sorted(r0['head_protos'])
    assert len(keys) == 2  # spatial and temporal CFR of one stage
    for k in keys:
        assert not torch.equal(r0['head_init'][k], r1['head_init'][k])
        assert torch.equal(r0['head_protos'][k], r1['head_protos'][k])
        # now 0.9 x the mean of the ranks' initial prototypes + 0.1 x the
        # global TP mean (every class has TP samples here)
        assert not torch.equal(r0['head_protos'][k], r0['head_init'][k])

