"""tools/misc/device_wheels.sh and bench_gpu_device.sh: the GPU suite on a
lent device machine, which has python3 with torch but no package index.
The wheels fetched here plus what the image holds must cover every
distribution the suite imports, the pins must be setup.py's, and the
device command must run end to end (here on the CPU at tiny sizes) from a
wheel folder installed without an index."""
import ast
import base64
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap
import zipfile

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WHEELS = osp.join(ROOT, 'tools', 'misc', 'device_wheels.sh')
DEVICE = osp.join(ROOT, 'tools', 'misc', 'bench_gpu_device.sh')
# the image's cv2 is opencv-python-headless; here it comes from these
CV2_HERE = {'opencv-python', 'opencv-contrib-python'}


def _names(flag):
    out = subprocess.run(['bash', WHEELS, flag], capture_output=True,
                         text=True, check=True).stdout.split()
    return [n.split('==')[0].lower() for n in out], out


def _uncovered(loaded):
    """{top-level module: its distributions} of the loaded modules that
    neither a fetched wheel nor the declared image provides."""
    wheels, _ = _names('--list')
    image, _ = _names('--image')
    allowed = set(wheels) | set(image) | {'mmskelcl'}
    if 'opencv-python-headless' in image:
        allowed |= CV2_HERE
    return {top: dists for top, dists in loaded.items()
            if not {d.lower().replace('_', '-') for d in dists} & allowed}


# written into a sitecustomize.py: at exit, the distributions of every
# non-stdlib top-level module the process loaded, as JSON, one file per
# process
_RECORD = """
import atexit, importlib.metadata as md, json, os, sys
def _record(folder={path!r}):
    pd = md.packages_distributions()
    tops = {{m.split('.')[0] for m in list(sys.modules)}}
    with open(os.path.join(folder, f'{{os.getpid()}}.json'), 'w') as f:
        json.dump({{t: pd[t] for t in sorted(tops) if t in pd
                   and t not in sys.stdlib_module_names}}, f)
atexit.register(_record)
"""


def test_pins_of_the_mmaction2_stack_are_setup_pys():
    tree = ast.parse(open(osp.join(ROOT, 'setup.py')).read())
    pins = {s.value for s in ast.walk(tree) if isinstance(s, ast.Constant)
            and isinstance(s.value, str) and s.value.startswith('mm')
            and '==' in s.value}
    assert {p.split('==')[0] for p in pins} == {'mmengine', 'mmcv-lite',
                                                 'mmaction2'}
    _, specs = _names('--list')
    assert pins <= set(specs)
    assert all('==' in s for s in specs), specs  # every wheel pinned


def test_wheels_and_image_cover_what_the_suite_imports(tmp_path):
    """Every non-stdlib top-level module loaded by ``import mmskelcl``, the
    benchmark tool and the suite module comes from a fetched wheel or from
    a distribution the script declares the image to hold."""
    rec = _recorder(tmp_path)
    code = textwrap.dedent(f"""
        import importlib.util, sys
        sys.path.insert(0, {ROOT!r})
        import mmskelcl, mmengine.runner
        import mmskelcl.utils.benchmark.suite
        spec = importlib.util.spec_from_file_location(
            'bench', {osp.join(ROOT, 'tools', 'benchmark.py')!r})
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        """)
    res = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, cwd=tmp_path, timeout=300,
                         env=dict(os.environ, OMP_NUM_THREADS='1',
                                  PYTHONPATH=rec))
    assert res.returncode == 0, res.stderr[-2000:]
    loaded = _loaded(tmp_path)
    assert not _uncovered(loaded), f'carry or declare: {_uncovered(loaded)}'
    for name in ('mmengine', 'mmcv', 'mmaction', 'yapf', 'addict'):
        assert name in loaded  # the closure is real, not empty


def test_missing_wheel_folder_is_named_before_any_work(tmp_path):
    res = subprocess.run(['bash', DEVICE], capture_output=True, text=True,
                         env=dict(os.environ, WHL=str(tmp_path / 'none'),
                                  OUT=str(tmp_path / 'out')))
    assert res.returncode == 2
    assert 'make device-wheels' in res.stderr and 'none' in res.stderr
    assert not (tmp_path / 'out').exists()


def _recorder(tmp_path):
    """PYTHONPATH entry whose sitecustomize records each process's modules
    into tmp_path/loaded; returns it."""
    (tmp_path / 'loaded').mkdir()
    (tmp_path / 'rec').mkdir()
    (tmp_path / 'rec' / 'sitecustomize.py').write_text(
        _RECORD.format(path=str(tmp_path / 'loaded')))
    return str(tmp_path / 'rec')


def _loaded(tmp_path):
    """Union of the recorded {module: distributions} of every process."""
    out = {}
    for path in (tmp_path / 'loaded').glob('*.json'):
        out.update(json.loads(path.read_text()))
    return out


def _wheel(folder):
    """A minimal valid wheel (``probe_pkg``) to install without an index."""
    files = {'probe_pkg/__init__.py': b'VALUE = 7\n',
             'probe_pkg-0.1.dist-info/METADATA':
             b'Metadata-Version: 2.1\nName: probe-pkg\nVersion: 0.1\n',
             'probe_pkg-0.1.dist-info/WHEEL':
             b'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n'
             b'Tag: py3-none-any\n'}
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{name},sha256={digest},{len(data)}')
    record.append('probe_pkg-0.1.dist-info/RECORD,,')
    files['probe_pkg-0.1.dist-info/RECORD'] = '\n'.join(record).encode()
    folder.mkdir()
    with zipfile.ZipFile(folder / 'probe_pkg-0.1-py3-none-any.whl',
                         'w') as zf:
        for name, data in files.items():
            zf.writestr(name, data)


@pytest.mark.slow
def test_device_command_runs_the_tiny_suite_from_a_wheel_folder(tmp_path):
    """Every item of the suite runs through the device command, and every
    module those runs load is covered by the wheels or the image."""
    _wheel(tmp_path / 'whl')
    rec = _recorder(tmp_path)
    env = dict(os.environ, WHL=str(tmp_path / 'whl'),
               SITE=str(tmp_path / 'site'), OUT=str(tmp_path / 'out'),
               PY=sys.executable, OMP_NUM_THREADS='1', PIP_NO_INDEX='1',
               PYTHONPATH=rec)
    res = subprocess.run(['bash', DEVICE, '--device', 'cpu', '--tiny',
                          '--budget', '1e9'],
                         capture_output=True, text=True, env=env,
                         timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    loaded = _loaded(tmp_path)
    assert {'mmaction', 'mmengine', 'torch'} <= set(loaded)
    assert not _uncovered(loaded), f'carry or declare: {_uncovered(loaded)}'
    assert (tmp_path / 'site' / 'probe_pkg' / '__init__.py').is_file()
    log = (tmp_path / 'out' / 'suite.log').read_text()
    assert 'mmengine 0.10.7, mmaction2 1.2.0' in log and 'GPU: ' in log
    res = json.loads((tmp_path / 'out' / 'suite.json').read_text())
    assert res['tiny'] and res['device'] == 'cpu'
    assert {v['status'] for v in res['items'].values()} == {'ok'}
    assert len(res['items']) == 11  # 7 methods, 2 compiled, bank, SkeAttnCLR
    table = (tmp_path / 'out' / 'suite.md').read_text()
    assert '\n| CTR-GCN | ' in table and table in log  # printed, logged
