"""MemoryBank (index / fifo), its state dict, and MemoryBankHook sizing."""
import logging

import pytest
import torch
from mmengine.dataset import BaseDataset, RepeatDataset

from mmskelcl.engine.memory_bank_hook import (MemoryBankHook,
                                              original_dataset_length)
from mmskelcl.models.heads import GraphContrastHead
from mmskelcl.models.memory import MemoryBank


def _rows(n, dim=3, start=0):
    """Distinct, recognisable rows: row r is [start + r] * dim."""
    return torch.arange(start, start + n, dtype=torch.float)[:, None].expand(
        n, dim).clone()


# ------------------------------------------------------------------ fifo
def test_fifo_wraps_and_overwrites_oldest():
    bank = MemoryBank(dim=3, size=5, mode='fifo')
    assert bank.size == 5 and not bank.valid.any()
    assert (bank.labels == -1).all() and int(bank.ptr) == 0

    slots = bank.update(_rows(3, start=10), torch.tensor([0, 1, 2]))
    assert slots.tolist() == [0, 1, 2] and int(bank.ptr) == 3
    assert bank.valid.tolist() == [True, True, True, False, False]
    assert bank.labels.tolist() == [0, 1, 2, -1, -1]

    # 3 more: two fill the tail, the third overwrites the oldest (slot 0)
    slots = bank.update(_rows(3, start=20), torch.tensor([5, 6, 7]))
    assert slots.tolist() == [3, 4, 0] and int(bank.ptr) == 1
    assert bank.valid.all()
    assert bank.labels.tolist() == [7, 1, 2, 5, 6]
    assert bank.feats[:, 0].tolist() == [22., 11., 12., 20., 21.]

    # exactly the bank size: pointer comes back to where it was
    slots = bank.update(_rows(5, start=30), torch.arange(5))
    assert slots.tolist() == [1, 2, 3, 4, 0] and int(bank.ptr) == 1
    assert bank.feats[:, 0].tolist() == [34., 30., 31., 32., 33.]
    assert bank.labels.tolist() == [4, 0, 1, 2, 3]

    with pytest.raises(ValueError, match='larger than the FIFO bank'):
        bank.update(_rows(6), torch.zeros(6, dtype=torch.long))


def test_fifo_ignores_indices_and_stores_detached_copies():
    bank = MemoryBank(dim=3, size=4, mode='fifo')
    x = _rows(2).requires_grad_(True)
    slots = bank.update(x, torch.tensor([1, 1]), torch.tensor([99, 98]))
    assert slots.tolist() == [0, 1]  # sample indices play no role
    assert not bank.feats.requires_grad
    x.data.fill_(-1)  # the bank holds its own copy
    assert bank.feats[0, 0] == 0


# ----------------------------------------------------------------- index
def test_index_mode_writes_slot_sample_idx():
    bank = MemoryBank(dim=3, size=6, mode='index')
    slots = bank.update(_rows(2, start=1), torch.tensor([2, 0]),
                        torch.tensor([4, 1]))
    assert slots.tolist() == [4, 1]
    assert bank.valid.tolist() == [False, True, False, False, True, False]
    assert bank.labels.tolist() == [-1, 0, -1, -1, 2, -1]
    assert bank.feats[4].tolist() == [1.] * 3 and bank.feats[1].tolist() == [
        2.
    ] * 3
    assert int(bank.ptr) == 0  # the pointer is FIFO-only
    # a later epoch overwrites the sample's slot (and its label follows)
    bank.update(_rows(1, start=7), torch.tensor([1]), torch.tensor([4]))
    assert bank.feats[4, 0] == 7 and bank.labels[4] == 1
    assert int(bank.valid.sum()) == 2


@pytest.mark.parametrize('bad', [6, 100, -1])
def test_index_out_of_range_is_an_error(bad):
    bank = MemoryBank(dim=3, size=6, mode='index')
    with pytest.raises(IndexError, match='MemoryBankHook'):
        bank.update(_rows(2), torch.tensor([0, 1]), torch.tensor([0, bad]))
    assert not bank.valid.any()  # nothing written


def test_index_mode_needs_indices():
    bank = MemoryBank(dim=3, size=6, mode='index')
    with pytest.raises(ValueError, match='sample indices'):
        bank.update(_rows(2), torch.tensor([0, 1]))


@pytest.mark.parametrize('mode', ['index', 'fifo'])
def test_unsized_bank_error_mentions_the_hook(mode):
    bank = MemoryBank(dim=3, mode=mode)
    assert bank.size == 0
    with pytest.raises(RuntimeError, match='MemoryBankHook'):
        bank.update(_rows(2), torch.tensor([0, 1]), torch.tensor([0, 1]))


def test_bad_mode_and_size():
    with pytest.raises(ValueError, match='mode'):
        MemoryBank(mode='queue')
    with pytest.raises(ValueError, match='positive'):
        MemoryBank(size=0)


def test_resize_empties():
    bank = MemoryBank(dim=3, size=4, mode='fifo')
    bank.update(_rows(3), torch.tensor([0, 1, 2]))
    bank.resize(7)
    assert bank.size == 7 and not bank.valid.any() and int(bank.ptr) == 0
    assert (bank.labels == -1).all() and not bank.feats.any()


# ------------------------------------------------------------ state dict
def _filled_fifo():
    bank = MemoryBank(dim=3, size=5, mode='fifo')
    bank.update(_rows(4, start=1), torch.tensor([3, 1, 4, 1]))
    bank.update(_rows(3, start=9), torch.tensor([5, 9, 2]))
    return bank


def _assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert set(sa) == set(sb) == {'feats', 'labels', 'valid', 'ptr'}
    for k in sa:
        assert sa[k].dtype == sb[k].dtype
        assert torch.equal(sa[k], sb[k]), k


@pytest.mark.parametrize('target_size', [None, 5, 3, 11])
def test_state_dict_round_trip_adopts_saved_size(target_size):
    src = _filled_fifo()
    dst = MemoryBank(dim=3, size=target_size, mode='fifo')
    dst.load_state_dict(src.state_dict())
    assert dst.size == 5
    _assert_same_state(src, dst)
    # it keeps working where the source left off (pointer restored)
    assert dst.update(_rows(1), torch.tensor([0])).tolist() == [2]


def test_state_dict_round_trip_through_a_file(tmp_path):
    src = MemoryBank(dim=3, size=6, mode='index')
    src.update(_rows(3), torch.tensor([0, 1, 2]), torch.tensor([5, 0, 3]))
    torch.save(src.state_dict(), tmp_path / 'bank.pth')
    dst = MemoryBank(dim=3, mode='index')
    dst.load_state_dict(torch.load(tmp_path / 'bank.pth', weights_only=True))
    _assert_same_state(src, dst)


def test_head_state_dict_adopts_bank_size():
    torch.manual_seed(0)
    kw = dict(in_dim=12, num_classes=3, proj_dim=4,
              sampler=dict(num_pos=1, num_neg=1))
    src = GraphContrastHead(bank=dict(mode='index', size=8), **kw)
    taps = dict(topology=torch.randn(3, 3, 2, 2))
    src.loss(taps, logits=None, labels=torch.tensor([0, 1, 2]),
             sample_idx=torch.tensor([1, 4, 7]))
    dst = GraphContrastHead(bank=dict(mode='index'), **kw)  # unsized
    missing, unexpected = dst.load_state_dict(src.state_dict())
    assert not missing and not unexpected
    assert dst.bank.size == 8
    _assert_same_state(src.bank, dst.bank)


# ------------------------------------------------------------------ hook
class _ToyDataset(BaseDataset):

    def __init__(self, n):
        self._n = n
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(x=i) for i in range(self._n)]


class _Loader:

    def __init__(self, dataset):
        self.dataset = dataset


class _Runner:

    def __init__(self, model, dataset):
        self.model = model
        self.train_dataloader = _Loader(dataset)
        self.logger = logging.getLogger('test_bank')


class _Model(torch.nn.Module):

    def __init__(self, *banks):
        super().__init__()
        self.banks = torch.nn.ModuleList(banks)


def test_original_dataset_length_unwraps_repeats():
    ds = _ToyDataset(7)
    assert original_dataset_length(ds) == 7
    rep = RepeatDataset(ds, times=5)
    assert len(rep) == 35 and original_dataset_length(rep) == 7
    # sample_idx under RepeatDataset is the original index (< 7)
    assert rep.get_data_info(23)['sample_idx'] == 23 % 7


def test_hook_sizes_banks_to_original_length_under_repeat():
    index_bank = MemoryBank(dim=4, mode='index')
    fifo_bank = MemoryBank(dim=4, mode='fifo')
    sized = MemoryBank(dim=4, size=3, mode='index')
    sized.update(_rows(1, dim=4), torch.tensor([1]), torch.tensor([2]))
    model = _Model(index_bank, fifo_bank, sized)
    runner = _Runner(model, RepeatDataset(_ToyDataset(7), times=5))
    MemoryBankHook().before_train(runner)
    assert index_bank.size == 7  # not 35
    assert fifo_bank.size == 7
    assert sized.size == 3 and sized.valid[2]  # restored banks left alone
    # fifo_size applies to unsized FIFO banks only
    index_bank, fifo_bank = MemoryBank(dim=4), MemoryBank(dim=4, mode='fifo')
    runner = _Runner(_Model(index_bank, fifo_bank), _ToyDataset(9))
    MemoryBankHook(fifo_size=4).before_train(runner)
    assert index_bank.size == 9 and fifo_bank.size == 4


def test_hook_unwraps_model_wrappers_and_ignores_bankless_models():
    from mmengine.registry import MODEL_WRAPPERS

    @MODEL_WRAPPERS.register_module(name='_TestBankWrapper', force=True)
    class _Wrapper(torch.nn.Module):

        def __init__(self, module):
            super().__init__()
            self.module = module

    bank = MemoryBank(dim=4)
    runner = _Runner(_Wrapper(_Model(bank)), _ToyDataset(4))
    MemoryBankHook().before_train(runner)
    assert bank.size == 4
    runner = _Runner(torch.nn.Linear(2, 2), _ToyDataset(4))
    MemoryBankHook().before_train(runner)  # no bank: nothing to do
