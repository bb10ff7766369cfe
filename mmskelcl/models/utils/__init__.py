from .taps import TapMixin, supports_taps
from .weight_init import CTRGCNInit, NormalWeightInit

__all__ = ['TapMixin', 'supports_taps', 'CTRGCNInit', 'NormalWeightInit']
