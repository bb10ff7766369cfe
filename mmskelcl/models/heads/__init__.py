from .base_aux_head import BaseAuxHead
from .graph_contrast_head import GraphContrastHead, GraphProjection

__all__ = ['BaseAuxHead', 'GraphContrastHead', 'GraphProjection']
