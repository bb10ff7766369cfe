"""Start the requested memory allocator before torch loads.

``import _preload`` as the first statement of a tool's ``__main__`` block
re-executes the script once with tcmalloc in ``LD_PRELOAD`` (see
``mmskelcl/utils/allocator.py``; ``MMSKELCL_ALLOCATOR=glibc`` turns it
off). The module is loaded from its file so that the re-execution happens
before ``import mmskelcl`` pays for torch.
"""
import importlib.util
import os.path as osp

_FILE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                 'mmskelcl', 'utils', 'allocator.py')
_spec = importlib.util.spec_from_file_location('_mmskelcl_allocator', _FILE)
allocator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(allocator)
allocator.ensure()
