from .base_aux_head import BaseAuxHead
from .csre_head import STFD, CSREHead
from .frhead import FRHead, FRStage
from .graph_contrast_head import GraphContrastHead, GraphProjection
from .infogcn_head import InfoGCNHead
from .probe_head import ProbeHead

__all__ = [
    'BaseAuxHead', 'CSREHead', 'STFD', 'FRHead', 'FRStage',
    'GraphContrastHead', 'GraphProjection', 'InfoGCNHead',
    'ProbeHead'
]
