"""MMAction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn``.

Upstream: open-mmlab/mmaction2#2714 (fix PR #2721, never released). The
directory has no ``__init__.py`` so ``find_packages`` dropped it from the
wheel, while ``mmaction/models/localizers/__init__.py`` still imports
``from .drn.drn import DRN``. Every ``import mmaction.models`` then fails.

The fix installs two stub modules in ``sys.modules`` *before*
``mmaction.models`` is imported, only when the real files are missing. The
stub ``DRN`` is not registered in any registry and raises on use.
"""
import importlib.util
import os.path as osp
import sys
import types

_PKG = 'mmaction.models.localizers.drn'


class _MissingDRN:
    """Placeholder for the DRN localizer missing from the MMAction2 wheel."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'DRN is missing from the installed mmaction2 wheel '
            '(open-mmlab/mmaction2#2714); install mmaction2 from source '
            'to use it. mmskelcl stubbed it so that mmaction.models imports.')


def drn_is_missing() -> bool:
    """Whether the installed mmaction2 lacks the DRN localizer files."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False
    root = list(spec.submodule_search_locations)[0]
    return not osp.exists(
        osp.join(root, 'models', 'localizers', 'drn', 'drn.py'))


def apply_drn_fix() -> bool:
    """Install the stub if needed. Returns True when the stub is active."""
    if _PKG in sys.modules:
        return getattr(sys.modules[_PKG], '__mmskelcl_stub__', False)
    if not drn_is_missing():
        return False
    pkg = types.ModuleType(_PKG)
    pkg.__path__ = []  # a package without files
    pkg.__mmskelcl_stub__ = True
    mod = types.ModuleType(_PKG + '.drn')
    mod.DRN = _MissingDRN
    mod.__mmskelcl_stub__ = True
    pkg.drn = mod
    sys.modules[_PKG] = pkg
    sys.modules[_PKG + '.drn'] = mod
    return True
