from .bank import MemoryBank
from .sampler import ContrastiveSampler, SampledPairs

__all__ = ['MemoryBank', 'ContrastiveSampler', 'SampledPairs']
