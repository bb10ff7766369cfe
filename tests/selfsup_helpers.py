"""A tiny SkeAttnCLR (ST-GCN encoder, attention-mask neck, predictor) and
random two-view batches, for the selfsup model and release tests."""
import torch
from mmaction.registry import MODELS


def build_tiny_skeattnclr(default_backbone: dict, hid_channels: int, **kw):
    """A built and initialised SkeAttnCLR on ``default_backbone`` (32
    channels out), 16-d embeddings, a 40-entry queue; ``kw`` overrides the
    config (``backbone=`` included)."""
    cfg = dict(
        type='SkeAttnCLR', backbone=default_backbone,
        neck=dict(type='AttnMaskNeck', in_channels=32, num_heads=4,
                  projector=dict(type='MLP1D', in_channels=32,
                                 hid_channels=hid_channels,
                                 out_channels=16)),
        predictor=dict(type='MLP1D', in_channels=16,
                       hid_channels=hid_channels, out_channels=16),
        mix=dict(type='SkeletonPartMix', temporal_units=(2, 3)),
        queue_len=40, feat_dim=16)
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def random_views(n=4, T=16, seed=0):
    """``(n, 2 views, 2 persons, T, 25 joints, 3)`` normal inputs."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, 2, T, 25, 3, generator=g)
