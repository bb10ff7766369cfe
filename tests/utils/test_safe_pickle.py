"""Every data pickle the project reads goes through the restricted unpickler
(issue 16): a payload that would create a canary file is refused by each
reader, while real annotation, score and DumpResults files load unchanged."""
import collections
import io
import os
import pickle
import sys

import numpy as np
import pytest
import torch

from mmskelcl.utils.safe_pickle import UNSAFE_ENV, safe_load

TOOLS = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'data')


class _System:
    def __init__(self, canary):
        self.canary = canary

    def __reduce__(self):
        return os.system, (f'touch {self.canary}', )


class Call:
    def __init__(self, fn, *args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) + ((self.state, ) if self.state else ())


def _evil(tmp_path, protocol=2, wrap=None):
    canary = tmp_path / 'canary'
    payload = _System(canary)
    obj = wrap(payload) if wrap else payload
    path = tmp_path / 'evil.pkl'
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return str(path), canary


def _readers():
    from mmskelcl.analysis.report import load_scores
    from mmskelcl.apis.clips import load_skeleton_samples
    from mmskelcl.datasets import SkeletonDataset
    from mmskelcl.datasets.converters import gym
    from mmskelcl.datasets.pose_extraction.boxes import load_box_file
    from mmskelcl.evaluation.scores import load_score_file
    return {
        'safe_load': safe_load,
        'SkeletonDataset.ann_file': lambda p: SkeletonDataset(
            p, pipeline=[], split='train'),
        'scores (tools/test.py --fuse)': load_score_file,
        'analysis report': load_scores,
        'infer inputs': load_skeleton_samples,
        'pose extractor boxes': load_box_file,
        'FineGym assembler': gym.load_skeleton_file,
    }


@pytest.mark.parametrize('protocol', [2, 5])
@pytest.mark.parametrize('reader', sorted(_readers()))
def test_every_reader_refuses_code(tmp_path, reader, protocol):
    path, canary = _evil(tmp_path, protocol,
                         wrap=lambda p: {'annotations': [p]})
    with pytest.raises(pickle.UnpicklingError) as err:
        _readers()[reader](path)
    assert not canary.exists()
    msg = str(err.value)
    assert path in msg and 'system' in msg and UNSAFE_ENV in msg


def test_check_pkl_and_resume_cache_refuse_code(tmp_path, capsys):
    from mmskelcl.datasets.converters._io import _read_pickle
    path, canary = _evil(tmp_path)
    sys.path.insert(0, TOOLS)
    try:
        import check_pkl
    finally:
        sys.path.remove(TOOLS)
    assert check_pkl.main([path]) == 2
    assert 'refused global posix.system' in capsys.readouterr().out
    assert _read_pickle(path) is None  # a refused cache is recomputed
    assert not canary.exists()


def test_tensor_storage_is_not_loaded_with_unsafe_torch_load(tmp_path):
    """``torch.storage._load_from_bytes`` runs ``torch.load(weights_only=
    False)``: a storage blob holding a payload must be refused."""
    canary = tmp_path / 'canary'
    blob = io.BytesIO()
    torch.save(_System(canary), blob)
    path = tmp_path / 'evil_storage.pkl'
    with open(path, 'wb') as f:
        pickle.dump(Call(torch.storage._load_from_bytes, blob.getvalue()), f)
    with pytest.raises(pickle.UnpicklingError):
        safe_load(str(path))
    assert not canary.exists()


def _reconstruct():
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


@pytest.mark.parametrize('name', [
    'reduce_ndarray', 'object_array', 'structured', 'void', 'dtype_flags',
    'dtype_fields', 'newobj_ndarray'])
def test_numpy_forgeries_are_refused(tmp_path, name):
    obj = Call(np.dtype, 'O')
    payload = {
        'reduce_ndarray': Call(np.ndarray, (1, ), obj, b'A' * 8),
        'object_array': Call(_reconstruct(), np.ndarray, (0, ), b'b',
                             state=(1, (1, ), obj, False, [1])),
        'structured': np.zeros(2, dtype=[('a', 'f8'), ('b', 'i4')]),
        'void': np.zeros(2, dtype='V8'),
        'dtype_flags': Call(np.dtype, 'f8', False, True, state=(
            3, '<', None, None, None, -1, -1, 0x3f)),
        'dtype_fields': Call(np.dtype, 'f8', False, True, state=(
            3, '|', None, ('a', ), {'a': (np.dtype('f8'), 4096)}, 8, 8, 0)),
        # NEWOBJ numpy.ndarray ((1,),): ndarray.__new__ straight from a file
        'newobj_ndarray': None,
    }[name]
    path = tmp_path / 'forged.pkl'
    with open(path, 'wb') as f:
        if payload is None:
            f.write(b'\x80\x02cnumpy\nndarray\nK\x01\x85\x85\x81.')
        else:
            pickle.dump(payload, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match='forged.pkl'):
        safe_load(str(path))


def _same(a, b):
    """Deep equality that also compares types and numpy dtypes."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        if isinstance(a, np.ndarray):
            assert a.flags.f_contiguous == b.flags.f_contiguous
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_real_files_load_exactly_as_plain_pickle(tmp_path, protocol):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
    try:
        from tiny_run import write_tiny_pickle
    finally:
        sys.path.pop(0)
    ann = tmp_path / 'ann.pkl'
    write_tiny_pickle(str(ann))
    with open(ann, 'rb') as f:
        data = pickle.load(f)
    data['extra'] = dict(
        od=collections.OrderedDict(a=1), s={1, 2}, fs=frozenset('ab'),
        b=b'\x00\xff', c=complex(1, 2), n=None, scalars=[
            np.float32(1.5), np.int64(-3), np.bool_(True), np.uint8(7),
            np.float16(0.25), np.complex128(1j)],
        big=np.arange(4, dtype='>i4'), fortran=np.asfortranarray(
            np.arange(6.).reshape(2, 3)), empty=np.zeros((0, 3), np.float32),
        flags=np.array([True, False]), dt=np.dtype('f4'),
        # MMAction2 DumpResults: tensors inside plain dicts
        dump=[dict(pred_score=torch.tensor([0.25, 0.75]),
                   pred_label=torch.tensor([1]), gt_label=torch.tensor([1]))])
    path = tmp_path / f'p{protocol}.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f, protocol=protocol)
    with open(path, 'rb') as f:
        ref = pickle.load(f)
    _same(safe_load(str(path)), ref)


def test_unsafe_opt_in_is_explicit(tmp_path, monkeypatch):
    path = tmp_path / 'legacy.pkl'
    with open(path, 'wb') as f:
        pickle.dump({'q': collections.deque([1, 2])}, f)
    with pytest.raises(pickle.UnpicklingError,
                       match='refused global collections.deque'):
        safe_load(str(path))
    assert safe_load(str(path), allow_unsafe=True) == {
        'q': collections.deque([1, 2])}
    monkeypatch.setenv(UNSAFE_ENV, '1')
    assert safe_load(str(path))['q'] == collections.deque([1, 2])
