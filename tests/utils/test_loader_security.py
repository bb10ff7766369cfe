"""Round two of the loader holes (issue 20, items 4-8), for data pickles
(:func:`safe_load` and its users) and checkpoints (mmengine's loaders after
``import mmskelcl``). Each hostile file must be refused with one line naming
the file and what was refused, create no canary, change no class or function
of the process, and stay within a memory bound (allocation and crash cases
run in a child under ``RLIMIT_AS``)."""
import collections
import pickle

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from evil_files import (Call, bad_unicode_array, deflate_checkpoint, nested,
                        process_fingerprint, run_limited, write_checkpoint,
                        write_pickle)
from mmskelcl.compat.checkpoint import load_checkpoint_file
from mmskelcl.utils.safe_pickle import safe_load
from tool_helpers import load_tool

try:  # numpy >= 2
    from numpy._core.numeric import _frombuffer
except ImportError:  # pragma: no cover
    from numpy.core.numeric import _frombuffer


def _refused(load, path, *what):
    """``load(path)`` raises a one-line UnpicklingError naming the file and
    each of ``what``; the process is unchanged."""
    before = process_fingerprint()
    with pytest.raises(pickle.UnpicklingError) as err:
        load(path)
    msg = str(err.value)
    assert '\n' not in msg and str(path) in msg, msg
    for w in what:
        assert w in msg, msg
    assert process_fingerprint() == before
    return msg


def _check_pkl(path):
    """``tools/data/check_pkl.py FILE``: exit 2 and print the refusal."""
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = load_tool('data/check_pkl.py').main([str(path)])
    assert rc == 2, out.getvalue()
    raise pickle.UnpicklingError(out.getvalue().strip())


# item 4: nested loads hand out classes and functions, BUILD rewrites them
NESTED_BUILDS = {
    'Counter.most_common': Call(
        torch.storage._load_from_bytes, nested(collections.Counter),
        state=(None, {'most_common': 0})),
    '_get_layout cache': Call(
        torch.storage._load_from_bytes,
        nested(torch.serialization._get_layout),
        state={'cache_info': 0, '__wrapped__': 1}),
    'TypedStorage class': Call(
        torch.storage._load_from_bytes, nested(torch.storage.TypedStorage),
        state=(None, {'is_shared': 0})),
}


@pytest.mark.parametrize('name', sorted(NESTED_BUILDS))
@pytest.mark.parametrize('entry', ['safe_load', 'check_pkl'])
def test_nested_load_cannot_hand_out_classes(tmp_path, name, entry):
    path = write_pickle(tmp_path / 'nested.pkl',
                        {'annotations': [NESTED_BUILDS[name]]})
    load = safe_load if entry == 'safe_load' else _check_pkl
    _refused(load, path, 'nested')


def test_build_only_on_instances_the_load_created(tmp_path):
    """BUILD/SETITEM on a vetted global itself, or on a function a
    checkpoint's getattr returned, are refused in both loaders."""
    from mmengine.logging import HistoryBuffer
    setitem = Call(collections.OrderedDict, state=(None, {'x': 1}))
    path = write_pickle(tmp_path / 'od.pkl', [setitem])
    _refused(safe_load, path, 'BUILD')
    fn_build = Call(getattr, HistoryBuffer, 'mean', state={'x': 1})
    ck = write_checkpoint(tmp_path / 'fn.pth', fn_build)
    _refused(lambda p: _load_checkpoint(p, map_location='cpu'), ck, 'BUILD')


def _verdicts(stdout):
    """The child's LOADED/REFUSED lines (mmengine logs to stdout too)."""
    return [ln for ln in stdout.splitlines()
            if ln.startswith(('LOADED', 'REFUSED'))]


# item 5: unbounded allocation from a few bytes
def _alloc(n: int) -> dict:
    """Payloads asking for ``n`` bytes (the child uses 8 GB; in-process
    tests 64 MiB, so a regression cannot exhaust the machine)."""
    return {
        'bytearray': (Call(bytearray, n), 'bytearray'),
        'frombuffer': (Call(_frombuffer, Call(bytearray, n), np.dtype('u1'),
                            (n, ), 'C'), 'bytearray'),
        'legacy Tensor(N)': (Call(torch.Tensor, n // 4), 'torch'),
        'FloatTensor(N)': (Call(torch.FloatTensor, n // 4), 'torch'),
    }


ALLOC = _alloc(8 * 10**9)


@pytest.mark.parametrize('name', sorted(ALLOC))
def test_constructors_are_refused_before_allocating(tmp_path, name):
    """In-process: refused at the global, before any call (the bounded
    child below shows the memory stays low)."""
    payload, what = _alloc(2**26)[name]
    pkl = write_pickle(tmp_path / 'alloc.pkl', {'annotations': [payload]})
    _refused(safe_load, pkl, 'refused global', what)
    pth = write_checkpoint(tmp_path / 'alloc.pth', payload)
    _refused(lambda p: _load_checkpoint(p, map_location='cpu'), pth,
             'refused global', what)


@pytest.mark.slow
def test_constructors_cannot_allocate(tmp_path):
    """Each payload through safe_load, SkeletonDataset and mmengine's
    _load_checkpoint, in one child under RLIMIT_AS (a 1.5 GiB margin)."""
    files = []
    for i, (payload, what) in enumerate(ALLOC.values()):
        files.append((write_pickle(tmp_path / f'alloc{i}.pkl',
                                   {'annotations': [payload]}),
                      write_checkpoint(tmp_path / f'alloc{i}.pth', payload),
                      what))
    res = run_limited(f"""
        import pickle
        from mmskelcl.utils.safe_pickle import safe_load
        from mmskelcl.datasets import SkeletonDataset
        for pkl, pth, _ in {files!r}:
            for load, path in ((safe_load, pkl),
                               (lambda p: SkeletonDataset(p, pipeline=[]),
                                pkl),
                               (_load_checkpoint, pth)):
                try:
                    load(path)
                    print('LOADED', path)
                except pickle.UnpicklingError as e:
                    print('REFUSED', e)
        """)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = _verdicts(res.stdout)
    assert [ln.split()[0] for ln in lines] == ['REFUSED'] * 3 * len(ALLOC), \
        res.stdout
    for i, (pkl, pth, what) in enumerate(files):
        assert pkl in lines[3 * i] and pkl in lines[3 * i + 1]
        assert pth in lines[3 * i + 2] and what in lines[3 * i + 2]


def test_compressed_entry_is_refused_by_runner_load(tmp_path):
    path = deflate_checkpoint(tmp_path / 'zip.pth', 2**20)
    _refused(lambda p: _load_checkpoint(p, map_location='cpu'), path,
             'compressed', '/data/0')
    _refused(load_checkpoint_file, path, 'compressed')


@pytest.mark.slow
def test_compressed_checkpoint_entries_are_refused(tmp_path):
    """A DEFLATE entry inflates ~1000x; refused before inflating."""
    path = deflate_checkpoint(tmp_path / 'zip.pth', 2**26)
    assert (tmp_path / 'zip.pth').stat().st_size < 2**20
    res = run_limited(f"""
        import pickle
        try:
            _load_checkpoint({path!r}, map_location='cpu')
            print('LOADED')
        except pickle.UnpicklingError as e:
            print('REFUSED', e)
        """, mem_gb=0.5)
    assert res.returncode == 0, res.stderr[-2000:]
    out = _verdicts(res.stdout)[0]
    assert out.startswith('REFUSED') and path in out and \
        'compressed' in out and '/data/0' in out, res.stdout


# item 6: sparse tensors with indices outside their size
def _bad_sparse():
    return torch.sparse_coo_tensor(torch.tensor([[0, 10**6]]),
                                   torch.ones(2), (4, ),
                                   check_invariants=False)


def test_sparse_layouts_are_refused_in_process(tmp_path):
    from mmskelcl.evaluation.scores import load_score_file
    pkl = write_pickle(tmp_path / 'scores.pkl',
                       [dict(pred_score=_bad_sparse(), frame_dir='a',
                             gt_label=torch.tensor([1]))])
    _refused(load_score_file, pkl, 'refused global',
             '_rebuild_sparse_tensor')
    pth = str(tmp_path / 'sparse.pth')
    torch.save({'state_dict': {'w': _bad_sparse()}}, pth)
    _refused(lambda p: _load_checkpoint(p, map_location='cpu'), pth,
             '_rebuild_sparse_tensor')


@pytest.mark.slow
def test_sparse_tensors_are_refused(tmp_path):
    """In a child: before the fix ``to_dense()`` crashed the process."""
    pkl = write_pickle(tmp_path / 'scores.pkl',
                       [dict(pred_score=_bad_sparse(), frame_dir='a',
                             gt_label=torch.tensor([1]))])
    pth = str(tmp_path / 'sparse.pth')
    torch.save({'state_dict': {'w': _bad_sparse()}}, pth)
    res = run_limited(f"""
        import pickle
        from mmskelcl.evaluation.scores import load_score_file
        for load, path in ((load_score_file, {pkl!r}),
                           (_load_checkpoint, {pth!r})):
            try:
                out = load(path)
                print('LOADED', path)
                seen = [out]
                while seen:  # densify every sparse tensor that loaded
                    x = seen.pop()
                    if isinstance(x, dict):
                        seen += list(x.values())
                    elif isinstance(x, (list, tuple)):
                        seen += list(x)
                    elif getattr(x, 'is_sparse', False):
                        x.to_dense()
                    elif hasattr(x, '__dict__'):
                        seen += list(vars(x).values())
            except pickle.UnpicklingError as e:
                print('REFUSED', e)
        """)
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    lines = _verdicts(res.stdout)
    assert [ln.split()[0] for ln in lines] == ['REFUSED'] * 2, res.stdout
    assert all('sparse' in ln for ln in lines), res.stdout


# item 7: storage constructors give uninitialised memory
def _uninit():
    return Call(torch._utils._rebuild_tensor_v2,
                Call(torch.storage.TypedStorage, 4096), 0, (4096, ), (1, ),
                False, collections.OrderedDict())


def test_storage_constructors_are_refused(tmp_path):
    from mmskelcl.apis.clips import load_skeleton_samples
    pkl = write_pickle(tmp_path / 'infer.pkl', [{'keypoint': _uninit()}])
    _refused(load_skeleton_samples, pkl, 'TypedStorage')
    pth = write_checkpoint(tmp_path / 'uninit.pth', _uninit())
    _refused(lambda p: _load_checkpoint(p, map_location='cpu'), pth,
             'TypedStorage')
    _refused(load_checkpoint_file, pth, 'TypedStorage')


@pytest.mark.parametrize('resume', [True, False])
def test_runner_load_from_and_resume_refuse_storage_ctor(tmp_path, resume):
    from mmengine.runner import Runner
    from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    model = dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
                 cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))
    cfg = tiny_runner_cfg(ann, str(tmp_path / 'work'), model, max_epochs=1)
    cfg.load_from = write_checkpoint(tmp_path / 'uninit.pth', _uninit())
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    if resume:
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(
            runner.optim_wrapper)
    _refused(lambda p: runner.load_or_resume(), cfg.load_from,
             'TypedStorage')


# item 8: a '<U1' array with an invalid code point
def test_invalid_unicode_array_is_refused(tmp_path):
    path = tmp_path / 'u.pkl'
    path.write_bytes(bad_unicode_array())
    _refused(safe_load, str(path), 'code point')
    _refused(_check_pkl, str(path), 'code point')
    ok = write_pickle(tmp_path / 'ok.pkl', np.array(['a\U0010ffff', 'bc']))
    np.testing.assert_array_equal(safe_load(ok), ['a\U0010ffff', 'bc'])


# what the project's tools and torch.save write still loads, unchanged
@pytest.mark.parametrize('legacy', [False, True])
def test_checkpoint_reader_matches_torch_load(tmp_path, legacy):
    """Dtypes, shared storages, views and map_location forms, in the zip
    and the pre-1.6 format: the tensors that were saved (dtype,
    shape, strides, values; uint16 only in the zip: torch cannot write it to
    the old format)."""
    base = torch.arange(24.).reshape(4, 6)
    obj = {'state_dict': collections.OrderedDict(
        w=base, t=base.t(), row=base[1], col=base[:, 2], e=torch.zeros(0, 3),
        **{str(dt): torch.arange(6).to(dt) for dt in (
            torch.float16, torch.bfloat16, torch.int8, torch.bool,
            torch.complex64, torch.float64) + (
                () if legacy else (torch.uint16, ))}),
        'param': torch.nn.Parameter(torch.ones(2)),
        'size': torch.Size([2, 3]), 'dev': torch.device('cpu'),
        'meta': {'epoch': 3, 'arr': np.arange(3, dtype=np.float32)}}
    obj['state_dict']._metadata = {'': {'version': 1}}
    path = str(tmp_path / 'ok.pth')
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    ref = obj
    for loc in (None, 'cpu', torch.device('cpu'), {'cpu': 'cpu'},
                lambda storage, loc: storage):
        got = load_checkpoint_file(path, map_location=loc)
        for k, v in ref['state_dict'].items():
            g = got['state_dict'][k]
            assert g.dtype == v.dtype and g.shape == v.shape and \
                g.stride() == v.stride() and torch.equal(g, v), k
        assert got['state_dict']._metadata == {'': {'version': 1}}
        # views share their storage, as torch.load gives them
        assert got['state_dict']['t'].untyped_storage().data_ptr() == \
            got['state_dict']['w'].untyped_storage().data_ptr()
        assert type(got['param']) is torch.nn.Parameter
        assert got['size'] == torch.Size([2, 3])
        assert got['dev'] == torch.device('cpu')
        np.testing.assert_array_equal(got['meta']['arr'], [0, 1, 2])


def test_convert_weights_refuses_hostile_released_file(tmp_path):
    """``tools/convert_weights.py`` (downloaded weights) uses the same
    reader: a storage constructor is refused, nothing converted."""
    src = write_checkpoint(tmp_path / 'released.pt', _uninit())
    tool = load_tool('convert_weights.py')
    _refused(tool.load_released, src, 'TypedStorage')


def test_every_mmengine_scheme_uses_the_safe_reader(tmp_path, monkeypatch):
    """``s3://``/``petrel://`` (and pavi, local open-mmlab) load through
    ``torch.load`` inside mmengine's checkpoint module: that name is the
    safe reader after ``import mmskelcl``; the rest of torch is untouched."""
    import mmengine.runner.checkpoint as mm_ckpt
    evil = write_checkpoint(tmp_path / 'evil.pth', _uninit())
    ok = str(tmp_path / 'ok.pth')
    torch.save({'state_dict': {'w': torch.arange(3.)}}, ok)

    class Backend:
        def get(self, name):
            return open(evil if 'evil' in name else ok, 'rb').read()

    monkeypatch.setattr(mm_ckpt, 'get_file_backend', lambda *a, **k: Backend())
    _refused(lambda p: _load_checkpoint('s3://bucket/evil.pth'),
             'checkpoint stream', 'TypedStorage')
    got = _load_checkpoint('petrel://bucket/ok.pth', map_location='cpu')
    assert torch.equal(got['state_dict']['w'], torch.arange(3.))
    assert mm_ckpt.torch.nn is torch.nn and mm_ckpt.torch.hub is torch.hub
