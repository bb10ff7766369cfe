"""One-run comparison of the encoders against CTR-GCN (issue 10).

For every encoder's joint-stream config of a dataset
(``configs/<dataset dir>/<encoder>_j.py``) on the dataset's input shape:

* ``params``: parameters of the recognizer (backbone + classifier),
* ``gflops``: FLOPs of the inference model on ONE clip ``(1, M, T, V, C)``
  counted by mmengine's :class:`~mmengine.analysis.FlopAnalyzer` (fvcore's
  counter: one fused multiply-add = one flop, so convolutions, linear
  layers, matmuls / einsums, norms, upsampling; element-wise ops are not
  counted). Operators it has no handle for are listed in
  ``uncounted_ops`` rather than silently dropped,
* ``train_step_ms``: median ``model.train_step`` with the config's
  optimizer, and ``infer_samples_per_s``: ``model.test_step`` throughput at
  the benchmark batch size; both also as ratios to CTR-GCN
  (``train_step_ratio`` = encoder / CTR-GCN, > 1 is slower;
  ``infer_throughput_ratio`` = encoder / CTR-GCN, > 1 is faster).

All models are built in the same process and their timed iterations are
interleaved (A, B, C, ..., A, B, C, ...), so drifts of a shared machine hit
every model alike. HCN's ``conv2`` width equals its window (released), so
on a shape other than its released 32 frames it is built with
``conv2_channels = T`` and the matching head (row ``hcn``); row ``hcn@32``
is the released 32-frame model (its own, smaller input).
"""
import copy
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .runner import _median
from .shapes import Shape, load_config
from .subject import _Subject

ENCODERS = ('ctrgcn', 'agcn', 'hcn', 'blockgcn', 'infogcn', 'hyperformer')
#: dataset -> (config directory, per-sample (M, T, V, C), batch size)
DATASETS = {
    'ntu': ('ntu60_xsub', (2, 64, 25, 3), 64),
    'nwucla': ('nwucla', (1, 52, 20, 3), 16),
}
CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
        __file__))))), 'configs')


class _Logits(nn.Module):
    """Inference model of a recognizer: clip -> class scores."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.recognizer.extract_feat(x, stage='head')[0]


def clip_flops(model: nn.Module, shape: Shape) -> Tuple[int, Dict[str, int],
                                                         Dict[str, int]]:
    """FLOPs of ``model`` (a recognizer, eval mode) on one clip.

    Args:
        model (nn.Module): A ``RecognizerGCN``.
        shape (tuple): Per-sample ``(M, T, V, C)``.

    Returns:
        tuple: total, counts by operator, and ``{operator: calls}`` of the
        operators the counter skipped.
    """
    from mmengine.analysis import FlopAnalyzer
    was_training = model.training
    model.eval()
    x = torch.randn(1, 1, *shape, device=next(model.parameters()).device)
    analyzer = FlopAnalyzer(_Logits(model), (x, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    total = int(analyzer.total())
    by_op = {k: int(v) for k, v in analyzer.by_operator().items()}
    skipped = {k: int(v) for k, v in analyzer.unsupported_ops().items()}
    model.train(was_training)
    return total, by_op, skipped


def encoder_config(encoder: str, dataset: str, shape: Shape,
                   root: str = CONFIG_ROOT) -> Tuple[str, Any]:
    """``(row name, Config)`` of an encoder's joint-stream config, adapted
    to ``shape`` (HCN: ``conv2_channels = T``)."""
    path = osp.join(root, DATASETS[dataset][0], f'{encoder}_j.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: benchmark configs are '
                                f'configs/<dataset>/<encoder>_j.py')
    cfg = load_config(path)
    if encoder == 'hcn':
        T = shape[1]
        cfg.model.backbone.conv2_channels = T
        cfg.model.cls_head.in_channels = (
            4 * cfg.model.backbone.get('base_channels', 64) * (T // 16)**2)
    return encoder, cfg


def benchmark_encoders(dataset: str,
                       encoders: Sequence[str] = ENCODERS,
                       batch_size: Optional[int] = None,
                       iters: int = 5,
                       warmup: int = 1,
                       device: str = 'cpu',
                       seed: int = 0,
                       hcn_released: bool = True,
                       root: str = CONFIG_ROOT) -> Dict[str, Any]:
    """Benchmark ``encoders`` on ``dataset``'s shape in one run.

    Args:
        dataset (str): ``'ntu'`` or ``'nwucla'`` (see :data:`DATASETS`).
        encoders (Sequence[str]): Must contain ``'ctrgcn'`` (the reference).
        batch_size (int, optional): Default: the dataset's (64 / 16).
        iters (int): Timed iterations per model and measurement.
        warmup (int): Untimed iterations per model before each measurement.
        device (str): ``'cpu'`` or ``'cuda'``.
        seed (int): Seed of the weights and inputs.
        hcn_released (bool): Add the released 32-frame HCN (``hcn@32``).
        root (str): The ``configs`` directory.

    Returns:
        dict: ``dataset``, ``shape``, ``batch_size``, ``device``, ``iters``
        and ``rows`` (one dict per model, in order).
    """
    if dataset not in DATASETS:
        raise ValueError(f'dataset must be one of {sorted(DATASETS)}')
    if 'ctrgcn' not in encoders:
        raise ValueError("the encoders must include 'ctrgcn' (the ratios' "
                         'reference)')
    if iters < 1 or warmup < 0:
        raise ValueError('need iters >= 1 and warmup >= 0')
    shape = DATASETS[dataset][1]
    batch = int(batch_size or DATASETS[dataset][2])
    dev = torch.device(device)
    jobs: List[Tuple[str, Any, Shape]] = [
        (*encoder_config(e, dataset, shape, root), shape) for e in encoders]
    if hcn_released and 'hcn' in encoders:
        path = osp.join(root, DATASETS[dataset][0], 'hcn_j.py')
        jobs.append(('hcn@32', load_config(path), shape[:1] + (32, ) +
                     shape[2:]))
    subjects = [_Subject(copy.deepcopy(cfg), dev, batch, shp, False, seed)
                for _, cfg, shp in jobs]
    train = [[] for _ in subjects]
    infer = [[] for _ in subjects]
    for _ in range(warmup):
        for s in subjects:
            s.train_step()
    for _ in range(iters):
        for k, s in enumerate(subjects):
            train[k].append(s.train_step())
    for _ in range(warmup):
        for s in subjects:
            s.test_step(batch)
    for _ in range(iters):
        for k, s in enumerate(subjects):
            infer[k].append(s.test_step(batch))
    rows = []
    for (name, _, shp), s, tr, inf in zip(jobs, subjects, train, infer):
        flops, by_op, skipped = clip_flops(s.model, shp)
        rows.append(dict(
            encoder=name, backbone=s.cfg.model.backbone.type,
            input_shape=list(shp), params=s.num_params, gflops=flops / 1e9,
            flops_by_operator=by_op, uncounted_ops=skipped,
            train_step_ms=_median(tr),
            infer_samples_per_s=batch / _median(inf) * 1e3))
    ref = rows[list(encoders).index('ctrgcn')]
    for row in rows:
        row['train_step_ratio'] = row['train_step_ms'] / ref['train_step_ms']
        row['infer_throughput_ratio'] = (row['infer_samples_per_s'] /
                                         ref['infer_samples_per_s'])
    return dict(dataset=dataset, shape=list(shape), batch_size=batch,
                device=str(dev), num_threads=torch.get_num_threads(),
                iters=iters, warmup=warmup, torch_version=torch.__version__,
                rows=rows)


def markdown_table(result: Dict[str, Any]) -> str:
    """The README table of one :func:`benchmark_encoders` result."""
    m, t, v, c = result['shape']
    lines = [f'{result["dataset"]}: (M, T, V, C) = ({m}, {t}, {v}, {c}), '
             f'batch {result["batch_size"]}, {result["device"]} '
             f'({result["num_threads"]} threads), median of '
             f'{result["iters"]} interleaved iterations', '',
             '| encoder | params | GFLOPs / clip | train step (x CTR-GCN) '
             '| inference throughput (x CTR-GCN) |',
             '|---|---:|---:|---:|---:|']
    for r in result['rows']:
        name = r['encoder'] + (f' (T={r["input_shape"][1]})'
                               if r['input_shape'] != result['shape'] else '')
        lines.append(f'| {name} | {r["params"]:,} | {r["gflops"]:.2f} | '
                     f'{r["train_step_ratio"]:.2f} | '
                     f'{r["infer_throughput_ratio"]:.2f} |')
    skipped = sorted({op for r in result['rows'] for op in r['uncounted_ops']})
    if skipped:
        lines.append(f'\nNot counted (no FLOP handle): {", ".join(skipped)}')
    return '\n'.join(lines)
