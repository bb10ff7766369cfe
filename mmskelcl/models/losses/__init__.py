from .cfr_loss import CFRLoss
from .sampled_infonce import SampledInfoNCELoss

__all__ = ['CFRLoss', 'SampledInfoNCELoss']
