from .ctrgcn import CTRGCN
from .tapped_gcn import AAGCNTaps, BlockTapMixin, STGCNTaps

__all__ = ['CTRGCN', 'AAGCNTaps', 'BlockTapMixin', 'STGCNTaps']
