from .bank import MemoryBank
from .contrast import BankContrast
from .sampler import ContrastiveSampler, SampledPairs

__all__ = ['MemoryBank', 'BankContrast', 'ContrastiveSampler', 'SampledPairs']
