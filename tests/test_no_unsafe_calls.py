"""Project-wide rule (issue 20): no file the user opens, and nothing named
inside one, is executed or unpickled unsafely.

Every ``.py`` file of ``mmskelcl/`` and ``tools/`` is parsed (calls, not
text: docstrings may name what they avoid) and these uses fail the test
unless the allow-list below names the file and says why:

* ``weights_only=False`` (any call), ``torch.load`` without a literal
  ``weights_only=True``;
* ``Config.fromstring``, ``exec``, ``eval`` of anything but a literal,
  ``compile``;
* ``pickle.load`` / ``pickle.loads`` / ``pickle.Unpickler(...)`` (and
  ``from pickle import load, loads, Unpickler``): data pickles go through
  :func:`mmskelcl.utils.safe_pickle.safe_load`;
* ``numpy.load(..., allow_pickle=True)``;
* ``Config.fromfile``: only on the config the user passes on the command
  line (or an API argument), never on a path read from a data file.
"""
import ast
import functools
import glob
import os.path as osp
from typing import List, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# (file, rule) -> why it is allowed
ALLOWED = {
    ('mmskelcl/utils/safe_pickle.py', 'pickle.load'):
        'the documented opt-in for trusted files: safe_load(allow_unsafe='
        'True) or MMSKELCL_UNSAFE_PICKLE=1',
    ('tools/train.py', 'Config.fromfile'): "the user's CONFIG argument",
    ('tools/knn_eval.py', 'Config.fromfile'): "the user's CONFIG argument",
    ('mmskelcl/apis/test_streams.py', 'Config.fromfile'):
        "tools/test.py's CONFIG arguments",
    ('mmskelcl/apis/inference.py', 'Config.fromfile'):
        "init_recognizer's config argument (infer.py / export_onnx.py "
        'CONFIG)',
    ('mmskelcl/utils/benchmark/shapes.py', 'Config.fromfile'):
        "tools/benchmark.py's CONFIG arguments",
    ('mmskelcl/utils/experiment/runs.py', 'Config.fromfile'):
        "the configs of the user's own experiment spec (tools/experiment.py)",
    ('tools/misc/docs_tables.py', 'Config.fromfile'):
        "the project's shipped configs/ (generated docs tables)",
}
PICKLE_CALLS = {'load', 'loads', 'Unpickler', '_Unpickler'}


def _name(node: ast.AST) -> str:
    """``a.b.c`` of a Name/Attribute chain ('' for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _name(node.value)
        return f'{head}.{node.attr}' if head else ''
    return ''


def _literal(node: ast.AST, value) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _rules(call: ast.Call) -> List[str]:
    """The rules a call breaks."""
    name, kw = _name(call.func), {k.arg: k.value for k in call.keywords}
    last = name.rsplit('.', 1)[-1]
    broken = []
    if 'weights_only' in kw and not _literal(kw['weights_only'], True):
        broken.append('weights_only=False')
    if name == 'torch.load' and not _literal(kw.get('weights_only'), True):
        broken.append('torch.load without weights_only=True')
    if last == 'fromstring' and name != 'np.fromstring':
        broken.append('Config.fromstring')
    if name in ('exec', 'compile', 'builtins.exec'):
        broken.append(name)
    if name in ('eval', 'builtins.eval') and not (
            call.args and isinstance(call.args[0], ast.Constant)):
        broken.append('eval')
    if name.startswith(('pickle.', 'cPickle.', '_pickle.')) and \
            last in PICKLE_CALLS:
        broken.append('pickle.load')
    if name in ('np.load', 'numpy.load') and \
            not _literal(kw.get('allow_pickle', ast.Constant(False)), False):
        broken.append('np.load allow_pickle')
    if last == 'fromfile' and name.endswith('Config.fromfile'):
        broken.append('Config.fromfile')
    return broken


def _uses(path: str) -> List[Tuple[str, int, str]]:
    """``(file, line, rule)`` of every unsafe use in a file, allowed or
    not."""
    rel = osp.relpath(path, REPO)
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=rel)
    found = []
    for node in ast.walk(tree):
        rules = []
        if isinstance(node, ast.Call):
            rules = _rules(node)
        elif isinstance(node, ast.ImportFrom) and \
                node.module in ('pickle', '_pickle', 'cPickle') and \
                PICKLE_CALLS & {a.name for a in node.names}:
            rules = ['pickle.load']
        found += [(rel, node.lineno, r) for r in rules]
    return found


def _violations(path: str) -> List[Tuple[str, int, str]]:
    return [u for u in _uses(path) if u[::2] not in ALLOWED]


@functools.lru_cache(maxsize=1)
def _all_uses() -> Tuple[Tuple[str, int, str], ...]:
    files = []
    for top in ('mmskelcl', 'tools'):
        files += glob.glob(osp.join(REPO, top, '**', '*.py'), recursive=True)
    assert len(files) > 100  # the whole package and tools were found
    return tuple(u for f in sorted(files) for u in _uses(f))


def test_no_unsafe_loads_or_execution():
    bad = [u for u in _all_uses() if u[::2] not in ALLOWED]
    assert not bad, 'unsafe calls (see tests/test_no_unsafe_calls.py):\n' + \
        '\n'.join(f'{f}:{line}: {rule}' for f, line, rule in bad)


def test_the_checks_find_each_unsafe_call(tmp_path):
    """Each rule fires on the call it is for, not on safe look-alikes."""
    src = '\n'.join([
        'torch.load(f, weights_only=False)',                  # 1
        'torch.load(f)',                                      # 2
        'torch.load(f, map_location="cpu", weights_only=True)',
        'Config.fromstring(text, ".py")',                     # 4
        'exec(code)',                                         # 5
        'eval(text)',                                         # 6
        'model.eval()',
        'pickle.load(f)',                                     # 8
        'pickle.loads(b)',                                    # 9
        'pickle.Unpickler(f).load()',                         # 10
        'from pickle import loads',                           # 11
        'np.load(p, allow_pickle=True)',                      # 12
        'np.load(p)',
        'mmengine.config.Config.fromfile(meta["config"])',    # 14
        'pickle.dump(obj, f)',
        '"exec(code) and weights_only=False in a docstring"',
    ])
    path = tmp_path / 'probe.py'
    path.write_text(src)
    found = [(line, rule) for _, line, rule in _violations(str(path))]
    assert sorted(found) == [
        (1, 'torch.load without weights_only=True'),
        (1, 'weights_only=False'),
        (2, 'torch.load without weights_only=True'),
        (4, 'Config.fromstring'), (5, 'exec'), (6, 'eval'),
        (8, 'pickle.load'), (9, 'pickle.load'), (10, 'pickle.load'),
        (11, 'pickle.load'), (12, 'np.load allow_pickle'),
        (14, 'Config.fromfile')]
