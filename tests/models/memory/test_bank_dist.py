"""MemoryBank under torch.distributed: two CPU processes (gloo) update with
different batches (3 and 2 rows) and must end with identical banks holding
both ranks' rows; ``update`` returns each rank's own slots."""
import pytest
import torch
import torch.nn.functional as F

from bank_helpers import RANK_INDICES, RANK_ROWS, dist_worker, rank_batch
from dist_helpers import needs_gloo, run_ranks

WORLD = 2

pytestmark = needs_gloo


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cacl_dist')
    return run_ranks(dist_worker, tmp, WORLD)


def _same_state(a, b):
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_index_mode_all_ranks_hold_both_batches(results):
    r0, r1 = results
    _same_state(r0['index_state'], r1['index_state'])
    st = r0['index_state']
    expected_valid = torch.zeros(8, dtype=torch.bool)
    for rank in range(WORLD):
        feats, labels = rank_batch(rank, 0)
        slots = torch.tensor(RANK_INDICES[rank])
        assert results[rank]['index_slots'].tolist() == RANK_INDICES[rank]
        assert torch.equal(st['feats'][slots], feats)
        assert torch.equal(st['labels'][slots], labels)
        expected_valid[slots] = True
    assert torch.equal(st['valid'], expected_valid)  # 5 rows, nothing else
    assert (st['labels'][~expected_valid] == -1).all()


def test_fifo_mode_gathers_in_rank_order_and_wraps(results):
    r0, r1 = results
    _same_state(r0['fifo_state'], r1['fifo_state'])
    # step 0: rank 0 (3 rows) -> slots 0-2, rank 1 (2 rows) -> 3-4;
    # step 1: rank 0 (2 rows) -> 5-6, rank 1 (3 rows) -> 7, 0, 1 (wrap)
    assert [s.tolist() for s in r0['fifo_slots']] == [[0, 1, 2], [5, 6]]
    assert [s.tolist() for s in r1['fifo_slots']] == [[3, 4], [7, 0, 1]]
    st = r0['fifo_state']
    assert int(st['ptr']) == 2 and st['valid'].all()
    for rank in range(WORLD):
        for step in (0, 1):
            feats, labels = rank_batch(rank, step)
            slots = results[rank]['fifo_slots'][step]
            if step == 0 and rank == 0:
                slots = slots[2:]  # slots 0 and 1 were overwritten at step 1
                feats, labels = feats[2:], labels[2:]
            assert torch.equal(st['feats'][slots], feats)
            assert torch.equal(st['labels'][slots], labels)


def test_graph_contrast_head_banks_identical(results):
    r0, r1 = results
    assert torch.equal(r0['head_proj'], r1['head_proj'])  # same seed
    _same_state(r0['head_state'], r1['head_state'])
    st = r0['head_state']
    for rank in range(WORLD):
        slots = torch.tensor(RANK_INDICES[rank])
        z = results[rank]['head_z']
        assert z.shape == (RANK_ROWS[rank], 8)
        torch.testing.assert_close(z.norm(dim=1), torch.ones(len(z)))
        assert torch.equal(st['feats'][slots], z)
        assert st['labels'][slots].tolist() == [0, 1, 2][:RANK_ROWS[rank]]
    assert int(st['valid'].sum()) == 5
    for r in results:  # every rank saw both ranks' rows as negatives
        assert torch.isfinite(r['head_loss']) and r['head_loss'] > 0


def test_single_process_update_is_unchanged():
    """Without a process group the same calls give the local result."""
    from mmskelcl.models.memory import MemoryBank
    bank = MemoryBank(dim=4, size=8, mode='fifo')
    feats = F.normalize(torch.randn(3, 4), dim=1)
    assert bank.update(feats, torch.tensor([0, 1, 2])).tolist() == [0, 1, 2]
    assert torch.equal(bank.feats[:3], feats)
