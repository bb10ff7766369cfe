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
