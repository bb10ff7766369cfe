"""The GPU suite: one command (``python tools/benchmark.py --suite gpu``,
``make bench-gpu``) for the table a GPU user needs, in minutes.

Items (NTU RGB+D 60 X-Sub joint configs, batch 64, banks of its 40,091
training samples):

* ``methods``: per method and encoder (CTR-GCN; CACL, SkeletonGCL,
  FR-Head, CSRE on CTR-GCN; Hyperformer; CSRE on Hyperformer) the training
  step in fp32 and AMP fp16, each interleaved with its baseline config
  (ratio = median of per-step ratios), the fp16 / fp32 ratio (separate
  runs), peak training memory and inference throughput (clips/s);
* ``compile``: ``torch.compile`` (inductor) against eager, CTR-GCN and
  CSRE / CTR-GCN, interleaved in one process;
* ``bank_loss``: the batched bank loss against the per-sample reference
  (``tests/reference_gcl.py``), NTU60 and FineGym99 bank sizes;
* ``skeattnclr``: a SkeAttnCLR pretraining step at batch 128 against a
  supervised step of its ST-GCN.

An item that fails is recorded with its error and the suite goes on; one
that would start after ``budget_s`` is recorded as skipped. ``tiny=True``
runs every item on tiny sizes (batch 2, SkeAttnCLR batch 4, one timed
step, small banks, the ``eager`` compile backend; the configs' clip shape,
which the heads are built for) so that the CPU test exercises all
of the suite's plumbing.
"""
import json
import os
import os.path as osp
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from .runner import benchmark

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DATASET = 'ntu60_xsub'
BANK = 40091  # NTU60 X-Sub training clips
#: (row, config, baseline config or None), joint stream of DATASET
METHODS: List[Tuple[str, str, Optional[str]]] = [
    ('CTR-GCN', 'ctrgcn_j', None),
    ('CACL / CTR-GCN', 'cacl_ctrgcn_j', 'ctrgcn_j'),
    ('SkeletonGCL / CTR-GCN', 'skeletongcl_ctrgcn_j', 'ctrgcn_j'),
    ('FR-Head / CTR-GCN', 'frhead_ctrgcn_j', 'ctrgcn_j'),
    ('CSRE / CTR-GCN', 'csre_ctrgcn_j', 'ctrgcn_j'),
    ('Hyperformer', 'hyperformer_j', None),
    ('CSRE / Hyperformer', 'csre_hyperformer_j', 'hyperformer_j'),
]
COMPILED = ['ctrgcn_j', 'csre_ctrgcn_j']
BUDGET_S = 420.0  # no item starts later (8 minutes of GPU time in all)


def _cfg(name: str) -> str:
    return osp.join(REPO, 'configs', DATASET, f'{name}.py')


class Settings:
    """Sizes of a full (GPU) or tiny (CPU plumbing) run."""

    def __init__(self, device: str, tiny: bool) -> None:
        self.device, self.tiny = device, tiny
        self.amp = device.startswith('cuda')
        self.iters, self.warmup = (1, 1) if tiny else (20, 5)
        self.batch = 2 if tiny else None  # None: the config's (64)
        self.shape = None  # the config's: FR-Head, CSRE and SkeAttnCLR
        # are built for its frame count
        self.bank = 64 if tiny else BANK
        self.backend = 'eager' if tiny else 'inductor'
        self.ssl_batch = 4 if tiny else 128

    def bench(self, config: str, baseline: Optional[str] = None,
              amp: bool = False, compile: Any = False) -> Dict[str, Any]:
        return benchmark(_cfg(config), batch_size=self.batch,
                         iters=self.iters, warmup=self.warmup,
                         device=self.device, shape=self.shape, amp=amp,
                         baseline=_cfg(baseline) if baseline else None,
                         bank_size=self.bank, compile=compile)


def _summary(res: Dict[str, Any]) -> Dict[str, Any]:
    keys = ('train_step_ms', 'train_peak_mem_mb', 'infer_samples_per_s',
            'infer_bs1_ms', 'params', 'batch_size', 'input_shape',
            'train_step_ratio_paired', 'train_peak_mem_ratio', 'notes')
    return {k: res[k] for k in keys if k in res}


def method_row(s: Settings, config: str, baseline: Optional[str]
               ) -> Dict[str, Any]:
    """fp32 and (on CUDA) fp16 AMP of one config against its baseline."""
    row: Dict[str, Any] = dict(config=config, baseline=baseline)
    row['fp32'] = _summary(s.bench(config, baseline))
    if s.amp:
        row['fp16'] = _summary(s.bench(config, baseline, amp=True))
        row['fp16_over_fp32'] = (row['fp16']['train_step_ms'] /
                                 row['fp32']['train_step_ms'])
    else:
        row['fp16'] = 'skipped: AMP fp16 needs CUDA'
    return row


def compile_row(s: Settings, config: str) -> Dict[str, Any]:
    res = s.bench(config, config, compile=s.backend)
    return dict(config=config, backend=s.backend,
                compiled_ms=res['train_step_ms'],
                eager_ms=res['baseline']['train_step_ms'],
                ratio_paired=res['train_step_ratio_paired'],
                infer_ratio=res.get('infer_batch_ratio'))


def bank_rows(s: Settings) -> Dict[str, Any]:
    from .bank import benchmark_bank_loss
    tests = osp.join(REPO, 'tests')
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from reference_gcl import reference_bank_loss  # kept in the tests
    sizes = ([('tiny', 64, 4)] if s.tiny else
             [('ntu60_xsub', BANK, 60), ('finegym99', 20484, 99)])
    extra = dict(batch_size=4, dim=16, num_pos=4, num_neg=8, iters=1,
                 reference_iters=1) if s.tiny else {}
    out = {}
    for name, size, classes in sizes:
        for strategy in ('R+CA', 'R+H'):
            out[f'{name}_{strategy}'] = benchmark_bank_loss(
                reference_bank_loss, bank_size=size, num_classes=classes,
                neg_strategy=strategy, device=s.device, **extra)
    return out


def skeattnclr_row(s: Settings) -> Dict[str, Any]:
    from .skeattnclr import skeattnclr_cost
    return skeattnclr_cost(_cfg('skeattnclr_stgcn_j_pretrain'),
                           batch_size=s.ssl_batch, iters=max(s.iters, 3)
                           if not s.tiny else 1, warmup=s.warmup,
                           device=s.device, shape=s.shape)


def run_suite(device: Optional[str] = None, tiny: bool = False,
              budget_s: float = BUDGET_S,
              say: Callable[[str], None] = print) -> Dict[str, Any]:
    """Run every item; the JSON-able result (see the module docstring)."""
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    s = Settings(device, tiny)
    start = time.time()
    items: List[Tuple[str, Callable[[], Any]]] = []
    for row, config, base in METHODS:
        items.append((f'methods/{row}',
                      lambda c=config, b=base: method_row(s, c, b)))
    items.append(('bank_loss', lambda: bank_rows(s)))
    items.append(('skeattnclr', lambda: skeattnclr_row(s)))
    for config in COMPILED:  # last: compilation is the slowest item
        items.append((f'compile/{config}',
                      lambda c=config: compile_row(s, c)))
    out: Dict[str, Any] = dict(
        suite='gpu', tiny=tiny, device=device,
        device_name=(torch.cuda.get_device_name(device)
                     if device.startswith('cuda') else 'cpu'),
        torch_version=torch.__version__, dataset=DATASET,
        threads=torch.get_num_threads(), budget_s=budget_s, items={})
    for key, fn in items:
        if time.time() - start > budget_s:
            out['items'][key] = dict(status='skipped: time budget spent')
            continue
        t0 = time.time()
        try:
            res = dict(status='ok', result=fn())
        except Exception as err:  # record, go on with the next item
            res = dict(status=f'error: {type(err).__name__}: {err}')
        res['seconds'] = time.time() - t0
        out['items'][key] = res
        say(f'[{time.time() - start:5.0f} s] {key}: {res["status"]}')
    out['total_s'] = time.time() - start
    return out


def _f(x: Any, fmt: str = '.1f') -> str:
    return format(x, fmt) if isinstance(x, (int, float)) else '-'


def markdown(res: Dict[str, Any]) -> str:
    """The suite's tables."""
    items = res['items']
    lines = [f'GPU suite on {res["device_name"]} ({res["device"]}, torch '
             f'{res["torch_version"]}{", TINY shapes" if res["tiny"] else ""}'
             f'), {res["dataset"]} joint configs, {res["total_s"]:.0f} s',
             '', '| method / encoder | params | fp32 step ms | x base | '
             'fp16 step ms | x base | fp16/fp32 | peak train MiB fp32 | '
             'fp16 | infer clips/s fp32 | fp16 |', '|---' * 11 + '|']
    for row, _, _ in METHODS:
        it = items.get(f'methods/{row}', {})
        if it.get('status') != 'ok':
            lines.append(f'| {row} | {it.get("status", "missing")} |' +
                         ' |' * 9)
            continue
        r = it['result']
        a, h = r['fp32'], r['fp16'] if isinstance(r['fp16'], dict) else {}
        lines.append(
            f'| {row} | {a.get("params", 0) / 1e6:.2f} M | '
            f'{_f(a["train_step_ms"])} | '
            f'{_f(a.get("train_step_ratio_paired"), ".2f")} | '
            f'{_f(h.get("train_step_ms"))} | '
            f'{_f(h.get("train_step_ratio_paired"), ".2f")} | '
            f'{_f(r.get("fp16_over_fp32"), ".2f")} | '
            f'{_f(a.get("train_peak_mem_mb"), ".0f")} | '
            f'{_f(h.get("train_peak_mem_mb"), ".0f")} | '
            f'{_f(a.get("infer_samples_per_s"), ".0f")} | '
            f'{_f(h.get("infer_samples_per_s"), ".0f")} |')
    lines += ['', '| compiled | backend | eager ms | compiled ms | '
              'compiled / eager |', '|---|---|---|---|---|']
    for config in COMPILED:
        it = items.get(f'compile/{config}', {})
        r = it.get('result') or {}
        lines.append(f'| {config} | {r.get("backend", it.get("status"))} | '
                     f'{_f(r.get("eager_ms"))} | {_f(r.get("compiled_ms"))} '
                     f'| {_f(r.get("ratio_paired"), ".2f")} |')
    it = items.get('bank_loss', {})
    lines += ['', '| bank loss | bank | batched ms | per-sample ms | '
              'speed-up |', '|---|---|---|---|---|']
    for name, r in (it.get('result') or {}).items():
        lines.append(f'| {name} | {r["bank_size"]} | {_f(r["batched_ms"])} '
                     f'| {_f(r.get("reference_ms"))} | '
                     f'{_f(r.get("speedup"))} |')
    if it.get('status') != 'ok':
        lines.append(f'| {it.get("status", "missing")} | | | | |')
    it = items.get('skeattnclr', {})
    r = it.get('result') or {}
    lines += ['', '| SkeAttnCLR | batch | pretrain step ms | supervised ms '
              '| ratio | queue MiB |', '|---|---|---|---|---|---|',
              f'| {it.get("status", "missing")} | {r.get("batch_size", "-")}'
              f' | {_f(r.get("pretrain_step_ms"))} | '
              f'{_f(r.get("supervised_step_ms"))} | '
              f'{_f(r.get("step_ratio_paired"), ".2f")} | '
              f'{_f((r.get("queue_bytes") or 0) / 2**20)} |']
    return '\n'.join(lines) + '\n'


def write(res: Dict[str, Any], prefix: str) -> Tuple[str, str]:
    """``prefix.json`` and ``prefix.md``; returns their paths."""
    os.makedirs(osp.dirname(osp.abspath(prefix)), exist_ok=True)
    with open(prefix + '.json', 'w') as f:
        json.dump(res, f, indent=1, default=str)
    with open(prefix + '.md', 'w') as f:
        f.write(markdown(res))
    return prefix + '.json', prefix + '.md'
