"""Building blocks shared by the encoders (importable by any backbone)."""
from .ctrgc import CTRGC, CTRGCNUnit
from .data_bn import data_bn_nmtvc
from .tcn import (MultiScaleTCN, TemporalConvBN, channel_residual,
                  temporal_residual)

__all__ = [
    'CTRGC', 'CTRGCNUnit', 'MultiScaleTCN', 'TemporalConvBN',
    'channel_residual', 'temporal_residual', 'data_bn_nmtvc'
]
