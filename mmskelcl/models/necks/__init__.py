from .attn_mask_neck import MLP1D, AttnMaskNeck

__all__ = ['MLP1D', 'AttnMaskNeck']
