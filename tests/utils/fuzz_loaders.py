"""Seeded mutations of real data pickles and checkpoints, and the child
process that loads them (issue 20's fuzz test; see test_loader_fuzz.py).

Run as a script: ``python fuzz_loaders.py KIND BASE FIRST LAST CANARY``
loads variants ``FIRST..LAST-1`` of ``BASE`` under a memory limit and prints
``BEGIN seed`` before and ``END seed outcome`` after each one, so a crash or
hang is pinned on the variant that caused it.
"""
import io
import pickle
import pickletools
import random
import struct
import sys
import zipfile

DTYPES = ['<f8', 'O', 'V8', 'U1', '<i8', '|b1', 'S3', 'f4,i4', '>f4', 'c16',
          'M8', 'float32', '<U9999999', 'i4', '|u1', '(2,)f4']
INTS = [0, 1, -1, 2, 7, 255, 65535, 2**31 - 1, 2**32, 2**40, -2**31,
        10**12]


def _ops(data: bytes) -> list:
    """(start, end) of every opcode of a valid pickle."""
    ops = list(pickletools.genops(data))
    pos = [p for _, _, p in ops] + [len(data)]
    return [(pos[i], pos[i + 1], ops[i][0].name) for i in range(len(ops))]


def _long1(n: int) -> bytes:
    raw = n.to_bytes((n.bit_length() + 8) // 8 or 1, 'little', signed=True)
    return b'\x8a' + bytes([len(raw)]) + raw


def _unicode(s: str) -> bytes:
    raw = s.encode()
    return b'X' + struct.pack('<I', len(raw)) + raw


def mutate_pickle(data: bytes, rng: random.Random, donors: list) -> bytes:
    """One or two random structural or byte-level changes."""
    b = bytearray(data)
    kind = rng.randrange(8)
    if kind >= 3:  # structural: opcode positions of the original
        ops = _ops(data)
        s, e, _ = rng.choice(ops)
        if kind == 3:  # duplicate an opcode
            b[s:s] = data[s:e]
        elif kind == 4:  # delete an opcode
            del b[s:e]
        elif kind == 5:  # splice opcodes from a donor file
            donor = rng.choice(donors)
            dops = _ops(donor)
            i = rng.randrange(len(dops))
            j = min(len(dops), i + rng.randint(1, 12))
            b[s:s] = donor[dops[i][0]:dops[j - 1][1]]
        elif kind == 6:  # change an integer (shapes, sizes, offsets)
            ints = [o for o in ops if o[2] in (
                'BININT', 'BININT1', 'BININT2', 'LONG1')]
            s, e, _ = rng.choice(ints or ops)
            b[s:e] = _long1(rng.choice(INTS))
        else:  # change a string (dtypes, keys, storage types)
            strs = [o for o in ops if 'UNICODE' in o[2]]
            s, e, _ = rng.choice(strs or ops)
            b[s:e] = _unicode(rng.choice(DTYPES))
    if kind == 0 or (kind >= 3 and rng.random() < .3):  # bit flips
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        b = b[:rng.randrange(len(b))]
    elif kind == 2:  # overwrite bytes with edge values
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.choice(
                [0, 0xff, 0x7f, 0x80, rng.randrange(256)])
    return bytes(b)


def _zip(records: list) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as z:
        for name, data, method in records:
            z.writestr(name, data, compress_type=method)
    return out.getvalue()


def mutate_checkpoint(data: bytes, rng: random.Random, donors: list) -> bytes:
    """Pickle-level changes of data.pkl, or changes of the zip records."""
    z = zipfile.ZipFile(io.BytesIO(data))
    recs = [[i.filename, z.read(i), zipfile.ZIP_STORED] for i in z.infolist()]
    pkl = next(r for r in recs if r[0].endswith('/data.pkl'))
    blobs = [r for r in recs if '/data/' in r[0]]
    kind = rng.randrange(10)
    if kind < 5:
        pkl[1] = mutate_pickle(pkl[1], rng, donors)
    elif kind == 5:  # swap two records' contents
        a, c = rng.sample(blobs, 2)
        a[1], c[1] = c[1], a[1]
    elif kind == 6:  # resize a record
        r = rng.choice(blobs)
        r[1] = r[1][:rng.randrange(len(r[1]) + 1)] if rng.random() < .5 \
            else r[1] + bytes(rng.choice([1, 4, 64, 4096]))
    elif kind == 7:  # compress a record
        rng.choice(recs)[2] = zipfile.ZIP_DEFLATED
    elif kind == 8:  # duplicate or drop a record
        r = rng.choice(recs)
        if rng.random() < .5:
            recs.append(list(r))
        else:
            recs.remove(r)
    else:  # raw bytes of the archive
        return bytes(_raw(data, rng))
    return _zip(recs)


def _raw(data: bytes, rng: random.Random) -> bytearray:
    b = bytearray(data)
    if rng.random() < .3:
        return b[:rng.randrange(len(b))]
    for _ in range(rng.randint(1, 16)):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return b


def variant(kind: str, base: bytes, seed: int, donors: list) -> bytes:
    rng = random.Random(f'{kind}-{seed}')
    if kind == 'checkpoint':
        return mutate_checkpoint(base, rng, donors)
    return mutate_pickle(base, rng, donors)


def _data_types() -> tuple:
    """What a loaded file may hold: data, and the inert names a pickle can
    spell without calling them (dtypes, stand-ins, statistics methods)."""
    import collections
    import types
    import numpy as np
    import torch
    from mmengine.logging import HistoryBuffer
    from mmskelcl.utils import safe_numpy, safe_pickle, safe_torch
    return (dict, list, tuple, set, frozenset, str, bytes, bytearray, int,
            float, complex, bool, type(None), collections.OrderedDict,
            collections.Counter, np.ndarray, np.generic, np.dtype,
            torch.Tensor, torch.storage.TypedStorage, torch.dtype,
            torch.Size, torch.device, HistoryBuffer, types.FunctionType,
            safe_pickle._Global, safe_numpy._NDArrayName,
            safe_torch.StorageName)


def _touch(obj, allowed: tuple, depth=0) -> None:
    """Read everything that loaded (strings, array and tensor memory,
    HistoryBuffer statistics); refuse types outside ``allowed``."""
    import numpy as np
    import torch
    from mmengine.logging import HistoryBuffer
    if not isinstance(obj, allowed):
        raise TypeError(f'foreign object {type(obj)!r} loaded')
    if depth > 50:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            _touch(k, allowed, depth + 1)
            _touch(v, allowed, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            _touch(v, allowed, depth + 1)
    elif isinstance(obj, torch.Tensor):
        obj.flatten()[:1].tolist()
    elif isinstance(obj, torch.storage.TypedStorage):
        obj._untyped_storage.tolist()[:1]
    elif isinstance(obj, np.ndarray):
        obj.copy().tolist() if obj.dtype.kind in 'SU' else obj.copy()
    elif isinstance(obj, HistoryBuffer):
        obj.mean(), obj.max()
    else:
        repr(obj)


def main(argv: list) -> None:
    import resource
    import signal
    kind, base_path, first, last, canary = argv
    import os
    import mmskelcl  # noqa: F401
    from mmskelcl.compat.checkpoint import load_checkpoint_file
    from mmskelcl.utils.safe_pickle import safe_load
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))

    def alarm(*_):
        raise TimeoutError('variant took over 20 s')

    signal.signal(signal.SIGALRM, alarm)
    base = open(base_path, 'rb').read()
    donors = [open(p, 'rb').read() for p in os.environ['FUZZ_DONORS']
              .split(os.pathsep)]
    load = load_checkpoint_file if kind == 'checkpoint' else safe_load
    path = f'{base_path}.variant'
    expect, allowed = type(load(base_path)), _data_types()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from evil_files import process_fingerprint
    before = process_fingerprint()
    for seed in range(int(first), int(last)):
        with open(path, 'wb') as f:
            f.write(variant(kind, base, seed, donors))
        print('BEGIN', seed, flush=True)
        signal.alarm(20)
        try:
            out = load(path)
            try:
                _touch(out, allowed)
            except TypeError as e:
                raise AssertionError(str(e))  # counted as an error below
            outcome = 'loaded' if type(out) is expect else \
                f'loaded-retyped:{type(out).__name__}'
        except pickle.UnpicklingError as e:
            outcome = 'refused' if path in str(e) and '\n' not in str(e) \
                else f'unclean-refusal:{str(e)[:100]!r}'
        except Exception as e:
            outcome = f'error:{type(e).__name__}:{str(e)[:100]!r}'
        finally:
            signal.alarm(0)
        if os.path.exists(canary):
            outcome = 'CANARY'
        if process_fingerprint() != before:
            outcome = 'PROCESS-CHANGED'
        print('END', seed, outcome, flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
