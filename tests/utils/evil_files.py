"""Hostile data pickles and checkpoints for the loader security tests
(issue 20): each builder writes a file and returns its path."""
import collections
import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')


class Call:
    """Pickles as ``fn(*args)``, then ``BUILD state`` when state is given."""

    def __init__(self, fn, *args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) + (
            (self.state, ) if self.state is not None else ())


def nested(obj) -> bytes:
    """What ``torch.storage._load_from_bytes`` reads: a legacy
    ``torch.save`` stream, here of an arbitrary object."""
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def write_pickle(path, obj, protocol=2) -> str:
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return str(path)


def write_checkpoint(path, payload) -> str:
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'x': payload}},
               path)
    return str(path)


def process_fingerprint() -> dict:
    """Identities a BUILD on a class or function would change."""
    from mmengine.logging import HistoryBuffer
    return {
        'Counter.most_common': id(collections.Counter.most_common),
        'Counter.__dict__': sorted(vars(collections.Counter)),
        '_get_layout.__dict__': dict(torch.serialization._get_layout.__dict__),
        'TypedStorage.__dict__': sorted(vars(torch.storage.TypedStorage)),
        'Tensor.__dict__': sorted(vars(torch.Tensor)),
        'OrderedDict.__dict__': sorted(vars(collections.OrderedDict)),
        'HistoryBuffer.__dict__': sorted(vars(HistoryBuffer)),
        'statistics': dict(HistoryBuffer._statistics_methods),
    }


def run_limited(code: str, mem_gb: float = 1.5, timeout: float = 120):
    """Run ``code`` in a child whose address space may grow by at most
    ``mem_gb`` beyond what the imports took (``RLIMIT_AS``)."""
    prelude = f"""
        import resource, re
        import torch, numpy, mmskelcl  # noqa: F401
        import mmskelcl.compat.checkpoint, mmskelcl.utils.safe_pickle
        from mmengine.runner.checkpoint import _load_checkpoint
        vm = int(re.search(r'VmSize:\\s+(\\d+)',
                           open('/proc/self/status').read()).group(1))
        lim = vm * 1024 + int({mem_gb} * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        """
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(prelude) + textwrap.dedent(
            code)], capture_output=True, text=True, timeout=timeout,
        cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'))


def deflate_checkpoint(path, nbytes: int) -> str:
    """A ``torch.save`` zip whose ``nbytes`` tensor record is
    DEFLATE-compressed (zeros: about 1000:1)."""
    plain = io.BytesIO()
    torch.save({'w': torch.zeros(nbytes, dtype=torch.uint8)}, plain)
    src = zipfile.ZipFile(plain)
    with zipfile.ZipFile(path, 'w') as dst:
        for info in src.infolist():
            method = zipfile.ZIP_DEFLATED if '/data/' in info.filename \
                else zipfile.ZIP_STORED
            dst.writestr(info.filename, src.read(info), compress_type=method)
    return str(path)


def bad_unicode_array() -> bytes:
    """A protocol-2 pickle of a ``<U1`` array holding code point 0x110000."""
    raw = pickle.dumps(np.array(['a']), protocol=2)
    return raw.replace(b'a\x00\x00\x00', b'\x00\x00\x11\x00', 1)
