import os
import subprocess
import sys
import textwrap

import pytest
import torch

from mmskelcl.compat import apply_checkpoint_fix, apply_drn_fix, checkpoint


def _run(code: str, tmp_path) -> str:
    res = subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                         capture_output=True, text=True, cwd=tmp_path,
                         timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_fixes_are_idempotent():
    first = apply_drn_fix()
    assert apply_drn_fix() == first
    assert apply_checkpoint_fix() == apply_checkpoint_fix()
    import mmaction.models  # noqa: F401  (works after the fix)


def test_custom_imports_registers_everything_in_fresh_process(tmp_path):
    """An unmodified MMAction2 flow: Config.fromfile with custom_imports,
    then the registries build mmskelcl types; nothing imported mmskelcl
    before."""
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmskelcl'], "
        "allow_failed_imports=False)\n"
        "model = dict(type='AuxRecognizerGCN', backbone=dict(type='CTRGCN', "
        "graph_cfg=dict(layout='nwucla'), num_person=1, base_channels=8, "
        "num_stages=1, inflate_stages=(), down_stages=()), "
        "cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))\n")
    out = _run(f"""
        import sys
        assert 'mmskelcl' not in sys.modules
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        cfg = Config.fromfile({str(cfg)!r})
        assert 'mmskelcl' in sys.modules
        init_default_scope('mmaction')
        # importing every MMAction2 registering package after mmskelcl
        # would raise on a duplicated name
        import mmaction.models, mmaction.datasets, mmaction.evaluation
        import mmaction.engine
        from mmaction.registry import MODELS
        from mmskelcl.utils.smoke import registered_names
        model = MODELS.build(cfg.model)
        print(type(model).__name__, type(model.backbone).__name__)
        names = registered_names()
        print(sorted(n for v in names.values() for n in v))
        """, tmp_path)
    assert 'AuxRecognizerGCN CTRGCN' in out


def test_no_registered_name_shadows_mmaction(tmp_path):
    out = _run("""
        import mmskelcl
        import mmaction.models, mmaction.datasets, mmaction.evaluation
        import mmaction.engine
        from mmaction.registry import (DATASETS, HOOKS, METRICS, MODELS,
                                       TRANSFORMS)
        from mmskelcl.utils.smoke import registered_names
        regs = {r.name: r for r in (MODELS, TRANSFORMS, DATASETS, METRICS,
                                    HOOKS)}
        for reg_name, names in registered_names().items():
            for n in names:
                cls = regs[reg_name].module_dict[n]
                assert cls.__module__.startswith('mmskelcl.'), (n, cls)
        n = sum(len(v) for v in registered_names().values())
        print('ok', n)
        """, tmp_path)
    assert out.startswith('ok')


class _Exploit:
    """Pickles to a call of os.system that would create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.mark.skipif(not checkpoint.defect_present(),
                    reason='torch < 2.6 or a fixed mmengine: no allowlist')
def test_malicious_checkpoint_is_refused_without_running(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'x': _Exploit(marker)}}, path)
    with pytest.raises(Exception,
                       match='(?i)weights_only|unsupported|refused global'):
        _load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


def test_allowlist_is_scoped_and_names_only_stand_ins():
    """The names a checkpoint may spell resolve to stand-ins (callable only
    by the restricted unpickler) or inert values, never to the real
    numpy/mmengine/builtin object; nothing is registered process-wide."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from mmskelcl.utils.safe_pickle import _Global
    table = checkpoint._checkpoint_table()
    assert {'mmengine.logging.history_buffer.HistoryBuffer',
            '__builtin__.getattr', 'builtins.getattr', 'numpy.ndarray',
            'numpy.dtype', 'torch._utils._rebuild_tensor_v2',
            'collections.OrderedDict', 'torch.FloatStorage'} <= set(table)
    for refused in ('builtins.bytearray', 'torch.Tensor',
                    'torch.storage.TypedStorage', 'torch.FloatTensor',
                    'torch._utils._rebuild_sparse_tensor',
                    'torch._tensor._rebuild_from_type_v2',
                    'torch.storage._load_from_bytes', 'builtins.eval'):
        assert refused not in table, refused
    values = list(table.values())
    for real in (HistoryBuffer, np.ndarray, np.dtype, getattr, bytearray,
                 torch.Tensor, torch.storage.TypedStorage):
        assert not any(v is real for v in values), real
    # whatever is callable is a stand-in (a dtype or method is inert data)
    assert all(type(v) is _Global or not callable(v) or
               isinstance(v, type(HistoryBuffer.mean)) for v in values)
    assert not set(map(id, values)) & set(
        map(id, torch.serialization.get_safe_globals()))


@pytest.mark.skipif(not checkpoint.defect_present(),
                    reason='torch < 2.6 or a fixed mmengine: no allowlist')
def test_getattr_is_restricted_to_history_buffer_methods(tmp_path):
    """A pickle may not use the getattr alias to reach anything else."""
    import pickle as pkl
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint

    class _GetattrExploit:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    path = tmp_path / 'evil_getattr.pth'
    torch.save({'meta': {'x': _GetattrExploit()}}, path)
    with pytest.raises(pkl.UnpicklingError):
        _load_checkpoint(str(path), map_location='cpu')
    ok = tmp_path / 'ok.pth'
    torch.save({'meta': {'f': HistoryBuffer.mean}}, ok)
    assert _load_checkpoint(str(ok), map_location='cpu')['meta']['f'] is \
        HistoryBuffer.mean


def test_import_hides_only_mmcv_lites_ops_warning(tmp_path):
    """``import mmskelcl`` first imports mmaction.models (the stack fixes):
    mmcv-lite's warning about its missing compiled attention op, which the
    skeleton path never uses, is not shown; the filter ends with the import
    (a later identical warning is shown again)."""
    res = subprocess.run(
        [sys.executable, '-W', 'default', '-c', textwrap.dedent("""
            import warnings
            import mmskelcl
            warnings.warn('Fail to import ``MultiScaleDeformableAttention`` '
                          'from a later import')
            """)],
        capture_output=True, text=True, cwd=tmp_path, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'mmcv.ops.multi_scale_deform_attn' not in res.stderr
    assert 'from a later import' in res.stderr
