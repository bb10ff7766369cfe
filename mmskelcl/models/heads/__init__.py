from .base_aux_head import BaseAuxHead
from .frhead import FRHead, FRStage
from .graph_contrast_head import GraphContrastHead, GraphProjection
from .infogcn_head import InfoGCNHead

__all__ = [
    'BaseAuxHead', 'FRHead', 'FRStage', 'GraphContrastHead', 'GraphProjection',
    'InfoGCNHead'
]
