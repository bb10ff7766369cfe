from .sampled_infonce import SampledInfoNCELoss

__all__ = ['SampledInfoNCELoss']
