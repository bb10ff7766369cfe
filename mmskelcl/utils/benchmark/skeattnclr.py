"""SkeAttnCLR's pretraining cost: step time against a supervised step of the
same encoder, and the memory of the queue and the key encoder.

One pretraining iteration is ``model.train_step`` (two views through the
query encoder, the mixed view and the key encoder, the three InfoNCE
terms, backward, SGD step, enqueue) plus the key encoder's momentum update
that ``MomentumUpdateHook`` runs after it. The supervised step trains
``RecognizerGCN(backbone=<the same encoder config>, cls_head=GCNHead)``
with the pretraining config's optimizer on one clip per sample. Both models
are built in one process and their timed steps interleaved (A, B, A, B,
...), so drifts of a shared machine hit both alike; ``step_ratio`` is
pretraining / supervised (> 1: pretraining is slower), and
``step_ratio_paired`` the median of the per-pair ratios.

Memory (bytes, what the tensors hold, independent of the device):

* ``queue_bytes``: the queue of global keys, ``K x D`` floats
  (``queue_buffers_bytes`` adds its bookkeeping: labels, valid flags,
  pointer);
* ``key_encoder_bytes``: every parameter and buffer of the key encoder
  (``backbone_k`` + ``neck_k``; buffers include BN statistics and
  non-persistent ones such as positional encodings).
"""
import copy
from typing import Any, Dict, Optional, Sequence

import torch
from mmengine.config import Config

from .runner import _median, interleaved_train_ms, paired_ratio
from .shapes import ConfigLike, Shape, infer_input_shape, load_config
from .subject import _Subject


def _bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def supervised_config(cfg: Config) -> Config:
    """A supervised recognizer of the pretraining config's encoder: same
    backbone config, ``GCNHead`` on the neck's input width (the config's
    ``num_classes``, default 60), same optimizer."""
    model = cfg.model
    num_classes = int(cfg.get('num_classes', 60))
    return Config(dict(
        default_scope=cfg.get('default_scope', 'mmaction'),
        model=dict(type='RecognizerGCN',
                   backbone=copy.deepcopy(model.backbone),
                   cls_head=dict(type='GCNHead', num_classes=num_classes,
                                 in_channels=model.neck.in_channels)),
        optim_wrapper=copy.deepcopy(cfg.optim_wrapper),
        train_dataloader=dict(batch_size=cfg.train_dataloader.batch_size)))


def base_momentum(cfg: Config) -> float:
    """The first momentum of the config's ``MomentumUpdateHook`` (its
    default without one)."""
    from mmskelcl.engine import MomentumUpdateHook
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') == 'MomentumUpdateHook']
    args = {k: v for k, v in (hooks[0] if hooks else {}).items()
            if k != 'type'}
    return MomentumUpdateHook(**args).momentum


class _Pretrain(_Subject):
    """A SkeAttnCLR model on two-view batches; a step includes the momentum
    update."""

    def __init__(self, cfg: Config, device: torch.device, batch_size: int,
                 shape: Shape, seed: int, momentum: float) -> None:
        super().__init__(cfg, device, batch_size, shape, False, seed,
                         bank_size=cfg.model.get('queue_len', 32768))
        gen = torch.Generator().manual_seed(seed + 1)
        self.batch['inputs'] = [torch.randn((2, ) + tuple(shape),
                                            generator=gen)
                                for _ in self.batch['inputs']]
        self.momentum = momentum

    def after_train_step(self) -> None:
        self.model.momentum_update(self.momentum)  # MomentumUpdateHook


def memory_bytes(model: torch.nn.Module) -> Dict[str, int]:
    """Bytes of a SkeAttnCLR model's queue and key encoder."""
    key = (model.backbone_k, model.neck_k)
    params = [p for m in key for p in m.parameters()]
    buffers = [b for m in key for b in m.buffers()]
    queue = model.queue
    return dict(
        queue_len=int(queue.size), feat_dim=int(queue.dim),
        queue_bytes=_bytes([queue.feats]),
        queue_buffers_bytes=_bytes(queue.buffers()),
        key_encoder_params=sum(p.numel() for p in params),
        key_encoder_param_bytes=_bytes(params),
        key_encoder_buffer_bytes=_bytes(buffers),
        key_encoder_bytes=_bytes(params) + _bytes(buffers))


def skeattnclr_cost(config: ConfigLike,
                    batch_size: Optional[int] = None,
                    iters: int = 5,
                    warmup: int = 1,
                    device: Optional[str] = None,
                    cfg_options: Optional[dict] = None,
                    shape: Optional[Sequence[int]] = None,
                    seed: int = 0) -> Dict[str, Any]:
    """Benchmark a SkeAttnCLR pretraining config against the supervised
    step of its encoder.

    Args:
        config (str | dict | Config): A ``skeattnclr_*_pretrain.py``.
        batch_size (int, optional): Default: the config's (128).
        iters (int): Timed steps per model. warmup (int): Untimed steps.
        device (str, optional): ``cpu`` / ``cuda`` (default: CUDA if any).
        cfg_options (dict, optional): Overrides of ``config``.
        shape (Sequence[int], optional): Per-sample ``(M, T, V, C)``;
            inferred from the config when None.
        seed (int): Model and input seed.

    Returns:
        dict: times (``pretrain_step_ms``, ``supervised_step_ms``,
        ``step_ratio``, ``step_ratio_paired``), the
        :func:`memory_bytes` entries and the run's settings.
    """
    if iters < 1 or warmup < 0:
        raise ValueError('need iters >= 1 and warmup >= 0')
    cfg = load_config(config, cfg_options)
    if cfg.model.get('type') != 'SkeAttnCLR':
        raise ValueError(f'--skeattnclr needs a SkeAttnCLR pretraining '
                         f'config (model.type SkeAttnCLR), got '
                         f'{cfg.model.get("type")!r}')
    dev = torch.device(device or ('cuda' if torch.cuda.is_available()
                                  else 'cpu'))
    bs = int(batch_size or cfg.train_dataloader.batch_size)
    shp = tuple(int(s) for s in shape) if shape else infer_input_shape(cfg)
    pre = _Pretrain(cfg, dev, bs, shp, seed, base_momentum(cfg))
    sup = _Subject(supervised_config(cfg), dev, bs, shp, False, seed)
    times = interleaved_train_ms((pre, sup), iters, warmup)
    pre_ms, sup_ms = (_median(t) for t in times)
    return dict(
        config=str(getattr(cfg, 'filename', None) or '<config>'),
        backbone=cfg.model.backbone.get('type'),
        supervised='RecognizerGCN + GCNHead, same backbone config',
        device=str(dev), num_threads=torch.get_num_threads(),
        batch_size=bs, input_shape=list(shp), iters=iters, warmup=warmup,
        seed=seed, pretrain_step_ms=pre_ms, supervised_step_ms=sup_ms,
        step_ratio=pre_ms / sup_ms,
        step_ratio_paired=paired_ratio(*times),
        pretrain_params=pre.num_params, supervised_params=sup.num_params,
        **memory_bytes(pre.model))


def format_skeattnclr_cost(res: Dict[str, Any]) -> str:
    """A short text summary of :func:`skeattnclr_cost`."""
    mib = 2.0**20
    return (
        f"SkeAttnCLR pretraining step {res['pretrain_step_ms']:.0f} ms vs "
        f"supervised {res['backbone']} step {res['supervised_step_ms']:.0f} "
        f"ms at batch {res['batch_size']} on {res['device']}: x"
        f"{res['step_ratio']:.2f} (paired x{res['step_ratio_paired']:.2f}); "
        f"queue {res['queue_len']} x {res['feat_dim']}: "
        f"{res['queue_bytes']} B ({res['queue_bytes'] / mib:.1f} MiB); key "
        f"encoder {res['key_encoder_params']} parameters, "
        f"{res['key_encoder_bytes']} B "
        f"({res['key_encoder_bytes'] / mib:.1f} MiB)")
