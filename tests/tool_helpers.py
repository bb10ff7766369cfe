"""Import the scripts of tools/ (not a package) as modules, to call their
``main`` / ``parse_args`` in-process."""
import importlib.util
import os.path as osp
from types import ModuleType

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_module(file: str, name: str) -> ModuleType:
    """A fresh module of the Python file ``file``, named ``name``; not put
    in ``sys.modules``."""
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_tool(path: str) -> ModuleType:
    """A fresh module of ``tools/<path>`` (``'train.py'``,
    ``'data/check_pkl.py'``, ...); not put in ``sys.modules``."""
    return load_module(osp.join(REPO, 'tools', path), 'mmskelcl_tool_' +
                       path[:-3].replace('/', '_').replace('.', '_'))
