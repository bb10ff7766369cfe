import os.path as osp
import sys

import pytest

# shared helpers (tests/tiny_run.py) importable from every test folder
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import mmskelcl  # noqa: F401  (stack fixes + registration)


@pytest.fixture(autouse=True)
def _mmaction_scope():
    """Build from MMAction2's registries with bare type names."""
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('mmaction')
    yield
    DefaultScope._instance_dict.clear()


#: Test files that sweep every shipped config or every encoder end to end.
#: They run under `make test-slow` (CI runs it after `make test`), so the
#: default suite stays well under ten minutes.
SLOW_FILES = (
    'tests/analysis/test_onnx_export.py',  # every encoder through ONNX
    'tests/tools/test_amp.py',  # every NW-UCLA config under bf16 autocast
    'tests/configs/test_schedules.py',  # every config's lr per epoch
    'tests/configs/test_csre_configs.py',  # 120 CSRE/baseline pairs
)


def pytest_collection_modifyitems(config, items):
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for item in items:
        rel = osp.relpath(str(item.fspath), root).replace(osp.sep, '/')
        if rel in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
