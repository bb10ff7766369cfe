"""Malicious checkpoints are refused before any of their code runs (issue 16).

Each payload would create a canary file (or, for the numpy holes, forge an
object pointer); every test asserts the load is refused *and* the canary is
absent. Legit Runner checkpoints (MessageHub, HistoryBuffer, numpy values)
must still load with unchanged statistics.
"""
import copyreg
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import _load_checkpoint

import mmskelcl  # noqa: F401  (registers the safe loaders)
from mmskelcl.compat.checkpoint import load_checkpoint_file

REFUSED = (pickle.UnpicklingError, RuntimeError, TypeError, ValueError,
           AttributeError)


class Call:
    """Pickles as ``fn(*args)`` (a REDUCE of whatever ``fn`` pickles to)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class NewObj:
    """Pickles as ``cls.__new__(cls)`` followed by ``BUILD state``."""

    def __init__(self, cls, state, args=()):
        self.cls, self.state, self.args = cls, state, args

    @property
    def __class__(self):  # what the pickler checks against ``cls``
        return self.cls

    def __reduce__(self):
        return copyreg.__newobj__, (self.cls, ) + self.args, self.state


def eval_payload(canary) -> list:
    """The issue's chain: poison ``HistoryBuffer._statistics_methods``, then
    walk getattr -> __init__.__globals__ -> __builtins__ -> eval."""
    R = torch._tensor._rebuild_from_type_v2
    poison = NewObj(HistoryBuffer, {
        'statistics_methods': dict.fromkeys(
            ['__getattribute__', '__init__', '__class__', '__new__'], 0),
        'max_length': 1, '_log_history': [], '_count_history': []})
    typ = Call(getattr, HistoryBuffer, '__class__')
    ga = Call(getattr, HistoryBuffer, '__getattribute__')
    init = Call(getattr, HistoryBuffer, '__init__')
    new = Call(getattr, HistoryBuffer, '__new__')
    dict_t = Call(R, typ, typ, ({}, ), {})
    bm_t = Call(R, typ, typ, (new, ), {})
    globs = Call(R, ga, dict_t, (init, '__globals__'), {})
    getm = Call(R, ga, bm_t, (globs, 'get'), {})
    bdict = Call(R, getm, dict_t, ('__builtins__', ), {})
    bget = Call(R, ga, bm_t, (bdict, 'get'), {})
    ev = Call(R, bget, bm_t, ('eval', ), {})
    code = (f"(__import__('pathlib').Path({str(canary)!r}).touch(), "
            "{'pwned': 1})[1]")
    return [poison, Call(R, ev, dict_t, (code, ), {})]


class _System:
    def __init__(self, canary):
        self.canary = canary

    def __reduce__(self):
        return os.system, (f'touch {self.canary}', )


def _save(tmp_path, payload, name='evil.pth'):
    path = tmp_path / name
    torch.save({'state_dict': {}, 'meta': {'x': payload}}, path)
    return str(path)


LOADERS = {
    'torch.load': lambda p: torch.load(p, map_location='cpu',
                                       weights_only=True),
    '_load_checkpoint': lambda p: _load_checkpoint(p, map_location='cpu'),
    'CheckpointLoader': lambda p: CheckpointLoader.load_checkpoint(
        p, map_location='cpu'),
    'apis.load_checkpoint_state': lambda p: __import__(
        'mmskelcl.apis.inference', fromlist=['x']).load_checkpoint_state(p),
    'load_checkpoint_file': load_checkpoint_file,
}


def _run(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, cwd=cwd,
                          timeout=240)


@pytest.mark.parametrize('loader', sorted(LOADERS))
def test_getattr_eval_chain_is_refused(tmp_path, loader):
    canary = tmp_path / 'canary'
    path = _save(tmp_path, eval_payload(canary))
    before = dict(HistoryBuffer._statistics_methods)
    with pytest.raises(REFUSED):
        LOADERS[loader](path)
    assert not canary.exists()
    # the file could not write into the class-level statistics table
    assert HistoryBuffer._statistics_methods == before
    assert '__init__' not in HistoryBuffer._statistics_methods


@pytest.mark.parametrize('loader', sorted(LOADERS))
def test_reduce_payload_is_refused(tmp_path, loader):
    canary = tmp_path / 'canary'
    path = _save(tmp_path, _System(canary))
    with pytest.raises(REFUSED):
        LOADERS[loader](path)
    assert not canary.exists()


def test_statistics_table_cannot_be_rewritten(tmp_path):
    """A HistoryBuffer state may map only the four names to the real
    methods: anything else is refused, and `mean` stays the mean."""
    evil = NewObj(HistoryBuffer, {
        'statistics_methods': {'mean': HistoryBuffer.max},
        'max_length': 5, '_log_history': np.array([1., 3.]),
        '_count_history': np.array([1, 1])})
    path = _save(tmp_path, evil)
    with pytest.raises(REFUSED, match='statistics'):
        load_checkpoint_file(path)
    buf = HistoryBuffer([1., 3.], [1, 1])
    assert buf.statistics('mean') == 2.0


def _np_payloads():
    obj = Call(np.dtype, 'O')  # REDUCE only: no BUILD of an object dtype
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover
        from numpy.core.multiarray import _reconstruct
    return {
        'reduce_ndarray': Call(np.ndarray, (1, ), obj, b'A' * 8),
        'rebuild_from_type_ndarray': Call(
            torch._tensor._rebuild_from_type_v2, np.ndarray, np.ndarray,
            ((1, ), obj, b'A' * 8), {}),
        'newobj_ndarray': NewObj(np.ndarray, None, ((1, ), obj, b'A' * 8)),
        'object_dtype_array': NewObjState(
            _reconstruct, (np.ndarray, (0, ), b'b'),
            (1, (2, ), obj, False, [1, 'a'])),
        'void_dtype': Call(np.dtype, 'V8'),
        'structured_dtype': Call(np.dtype, 'f8,i4'),
        # a float64 dtype whose BUILD state sets the has-object flags
        'dtype_flags': NewObjState(np.dtype, ('f8', False, True),
                                   (3, '<', None, None, None, -1, -1, 0x3f)),
    }


class NewObjState:
    """Pickles as ``fn(*args)`` followed by ``BUILD state``."""

    def __init__(self, fn, args, state):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return self.fn, self.args, self.state


@pytest.mark.parametrize('name', sorted(_np_payloads()))
def test_numpy_forgeries_are_refused(tmp_path, name):
    """Run in a child: before the fix the forged object pointer segfaults."""
    path = _save(tmp_path, _np_payloads()[name])
    res = _run(f"""
        import mmskelcl
        from mmengine.runner.checkpoint import _load_checkpoint
        try:
            ck = _load_checkpoint({path!r}, map_location='cpu')
        except Exception as e:
            print('REFUSED', type(e).__name__, e)
        else:
            x = ck['meta']['x']
            print('LOADED', repr(x)[:200])
        """, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'REFUSED' in res.stdout and 'LOADED' not in res.stdout, \
        res.stdout


def test_import_does_not_widen_plain_torch_load(tmp_path):
    """After ``import mmskelcl`` a plain weights_only load accepts exactly
    what it accepted before, and no global is registered process-wide."""
    hub = MessageHub.get_instance('plain_load')
    hub.update_scalar('loss', 1.0)
    path = tmp_path / 'hub.pth'
    torch.save({'message_hub': hub.state_dict(),
                'arr': np.arange(3)}, path)
    res = _run(f"""
        import torch
        def attempt():
            try:
                torch.load({str(path)!r}, weights_only=True)
                return 'accepted'
            except Exception as e:
                return 'refused'
        before = set(torch.serialization.get_safe_globals())
        assert attempt() == 'refused'
        import mmskelcl
        from mmengine.runner.checkpoint import _load_checkpoint
        _load_checkpoint({str(path)!r})     # our scoped loader accepts it
        assert attempt() == 'refused'       # a plain load still refuses
        # torch registers its own (nested, distributed) globals lazily
        extra = set(torch.serialization.get_safe_globals()) - before
        ours = [g for g in extra if isinstance(g, tuple) or not
                getattr(g, '__module__', '').startswith('torch.')]
        assert not ours, ours
        """, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]


def test_remote_checkpoint_goes_through_the_safe_loader(tmp_path,
                                                        monkeypatch):
    """``https://`` checkpoints: mmengine's ``load_url`` unpickles with
    ``weights_only=False``; the download must be loaded safely."""
    canary = tmp_path / 'canary'
    evil = _save(tmp_path, _System(canary))

    def fake_download(url, dst, *args, **kwargs):
        with open(evil, 'rb') as src, open(dst, 'wb') as out:
            out.write(src.read())

    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    for url in ('https://example.com/evil.pth',
                'http://example.com/evil2.pth'):
        with pytest.raises(REFUSED):
            _load_checkpoint(url, map_location='cpu')
        assert not canary.exists()
    # a legit remote checkpoint still loads (from the download cache)
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(2)},
                'meta': {'hist': np.float32(2.5)}}, good)
    evil = str(good)
    ck = _load_checkpoint('https://example.com/good.pth', map_location='cpu')
    assert ck['meta']['hist'] == np.float32(2.5)
    assert torch.equal(ck['state_dict']['w'], torch.ones(2))
    assert (tmp_path / 'hub' / 'checkpoints' / 'good.pth').is_file()


def test_message_hub_round_trip_keeps_statistics(tmp_path):
    """What Runner.save_checkpoint writes: MessageHub state with
    HistoryBuffers, numpy scalars and arrays in meta."""
    hub = MessageHub.get_instance('round_trip')
    for i, v in enumerate([0.5, 2.0, 1.25, 4.0]):
        hub.update_scalar('train/loss', v, count=i + 1)
    hub.update_info('iter', 7)
    meta = {'epoch': 2, 'seed': np.int64(3), 'lr': np.float32(0.125),
            'hist': np.arange(6, dtype=np.float16).reshape(2, 3),
            'big_endian': np.arange(3, dtype='>f8'),
            'fortran': np.asfortranarray(np.arange(6.).reshape(2, 3)),
            'flags': np.array([True, False]), 'c': np.complex64(1 + 2j)}
    path = tmp_path / 'runner.pth'
    torch.save({'meta': meta, 'state_dict': {'w': torch.arange(4.)},
                'message_hub': hub.state_dict()}, path)
    ck = _load_checkpoint(str(path), map_location='cpu')
    for k, v in meta.items():
        ref = pickle.loads(pickle.dumps(v, 2))  # what plain pickle gives
        assert type(ck['meta'][k]) is type(ref), k
        np.testing.assert_array_equal(ck['meta'][k], v)
        assert np.asarray(ck['meta'][k]).dtype == np.asarray(ref).dtype, k
    assert ck['meta']['fortran'].flags.f_contiguous
    buf = ck['message_hub']['log_scalars']['train/loss']
    assert type(buf) is HistoryBuffer
    np.testing.assert_array_equal(buf.data[0], [0.5, 2.0, 1.25, 4.0])
    # weighted mean of the values over the counts: 7.75 / 10
    assert buf.statistics('mean') == pytest.approx(7.75 / 10)
    assert buf.statistics('max') == 4.0 and buf.current() == 4.0
    restored = MessageHub.get_instance('round_trip_restored')
    restored.load_state_dict(ck['message_hub'])
    assert restored.get_info('iter') == 7
    assert restored.get_scalar('train/loss').min() == 0.5
    # re-saving gives a checkpoint that loads the same way
    torch.save(ck, tmp_path / 'again.pth')
    again = _load_checkpoint(str(tmp_path / 'again.pth'))
    assert type(again['message_hub']['log_scalars']['train/loss']) is \
        HistoryBuffer


@pytest.mark.parametrize('resume', [True, False])
def test_runner_load_from_and_resume_refuse_the_chain(tmp_path, resume):
    """Runner ``load_from`` (``tools/test.py``) and ``--resume``."""
    from mmengine.runner import Runner
    from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    canary = tmp_path / 'canary'
    model = dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    cfg = tiny_runner_cfg(ann, str(tmp_path / 'work'), model, max_epochs=1)
    cfg.load_from, cfg.resume = _save(tmp_path, eval_payload(canary)), resume
    runner = Runner.from_cfg(cfg)
    if resume:
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(
            runner.optim_wrapper)
    with pytest.raises(REFUSED):
        runner.load_or_resume()
    assert not canary.exists()
