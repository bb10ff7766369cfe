"""Fuzzing the two loaders as trusted parsers are fuzzed (issue 20).

A seeded mutator (tests/utils/fuzz_loaders.py) makes variants of a real
annotation pickle, an MMAction2 ``DumpResults`` score dump and a Runner
checkpoint (bit flips, truncations, duplicated/deleted/spliced opcodes,
changed ints and dtype strings, zip records swapped, resized, compressed,
duplicated or dropped). Children load them in batches under ``RLIMIT_AS``
and a per-variant alarm; every variant must load to the same kind of
content or be refused with a one-line ``UnpicklingError`` naming the file:
no crash (a dead child names its variant), no hang, no other exception, no
canary from the spliced payloads."""
import collections
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from evil_files import Call, nested

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
N = int(os.environ.get('MMSKELCL_FUZZ_N', 2000))


class _System:
    def __init__(self, canary):
        self.canary = canary

    def __reduce__(self):
        return os.system, (f'touch {self.canary}', )


def _runner_checkpoint(path):
    """What Runner.save_checkpoint writes, from the real objects."""
    from mmengine.logging import MessageHub
    from mmengine.optim.scheduler import MultiStepLR
    model = torch.nn.Sequential(torch.nn.Linear(4, 3),
                                torch.nn.BatchNorm1d(3))
    model.register_buffer('bank_feats', torch.randn(8, 16))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    sched = MultiStepLR(opt, milestones=[2, 4], by_epoch=True)
    hub = MessageHub.get_instance('fuzz_base')
    for i in range(5):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
    hub.update_info('epoch', 1)
    torch.save(dict(
        meta=dict(epoch=1, iter=5, seed=np.int64(0), cfg='model = dict()',
                  dataset_meta=dict(classes=['a', 'b']),
                  hist=np.arange(3.), view=torch.arange(6.).reshape(2, 3).t()),
        state_dict=model.state_dict(), message_hub=hub.state_dict(),
        optimizer=opt.state_dict(), param_schedulers=[sched.state_dict()]),
        path)


def _bases(tmp):
    from tiny_run import write_tiny_pickle
    write_tiny_pickle(str(tmp / 'ann.pkl'))
    rng = np.random.default_rng(0)
    dump = [dict(frame_dir=f'clip{i}', pred_score=torch.tensor(
        rng.random(3), dtype=torch.float32), pred_label=torch.tensor([i % 3]),
        gt_label=torch.tensor([i % 3])) for i in range(4)]
    with open(tmp / 'dump.pkl', 'wb') as f:
        pickle.dump(dump, f, protocol=2)  # mmengine.dump's protocol
    _runner_checkpoint(tmp / 'ckpt.pth')
    return {'annotation': tmp / 'ann.pkl', 'dump': tmp / 'dump.pkl',
            'checkpoint': tmp / 'ckpt.pth'}


def _donors(tmp, bases, canary):
    """Opcode sources for splicing: the bases' pickles and hostile ones."""
    import zipfile
    out = [bases['annotation'], bases['dump']]
    with zipfile.ZipFile(bases['checkpoint']) as z:
        (tmp / 'ckpt_data.pkl').write_bytes(z.read('ckpt/data.pkl'))
    out.append(tmp / 'ckpt_data.pkl')
    hostile = {'system.pkl': _System(canary),
               'nested.pkl': Call(torch.storage._load_from_bytes,
                                  nested(collections.Counter),
                                  state=(None, {'most_common': 0})),
               'alloc.pkl': Call(bytearray, 8 * 10**9)}
    for name, obj in hostile.items():
        with open(tmp / name, 'wb') as f:
            pickle.dump(obj, f, protocol=2)
        out.append(tmp / name)
    return os.pathsep.join(map(str, out))


def _run(kind, base, first, last, canary, donors):
    """Outcomes of variants first..last-1; a dead or stuck child is
    recorded against the variant it was loading and the rest resumed."""
    outcomes = {}
    while first < last:
        try:
            res = subprocess.run(
                [sys.executable, os.path.join(HERE, 'fuzz_loaders.py'), kind,
                 str(base), str(first), str(last), str(canary)],
                capture_output=True, text=True, timeout=300, cwd=ROOT,
                env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT,
                         FUZZ_DONORS=donors))
            out, rc = res.stdout, res.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else \
                (e.stdout or '')
            rc = 'timeout'
        current = None
        for line in out.splitlines():
            parts = line.split(' ', 2)
            if parts[0] == 'BEGIN':
                current = int(parts[1])
            elif parts[0] == 'END':
                outcomes[int(parts[1])] = parts[2]
                current = None
        if current is None and rc == 0:
            break
        if current is None:  # died before its first variant
            raise AssertionError(f'{kind} child failed: {res.stderr[-2000:]}')
        outcomes[current] = f'CRASH(rc={rc})'
        first = current + 1
    return outcomes


@pytest.mark.slow
def test_fuzzed_files_load_or_are_refused_cleanly(tmp_path):
    canary = tmp_path / 'canary'
    bases = _bases(tmp_path)
    donors = _donors(tmp_path, bases, canary)
    bad, summary = [], []
    for kind, base in bases.items():
        outcomes = _run(kind, base, 0, N, canary, donors)
        counts = collections.Counter(
            o.split(':')[0] for o in outcomes.values())
        summary.append(f'{kind}: {len(outcomes)} variants, {dict(counts)}')
        bad += [f'{kind} seed {s}: {o}' for s, o in sorted(outcomes.items())
                if o.split(':')[0] not in ('loaded', 'loaded-retyped',
                                           'refused')]
    print('\n'.join(['fuzz summary:'] + summary))
    assert not canary.exists()
    assert not bad, '\n'.join(bad[:20])
