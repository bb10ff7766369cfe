from .cfr_loss import CFRLoss
from .queue_infonce import QueueInfoNCELoss
from .sampled_infonce import SampledInfoNCELoss

__all__ = ['CFRLoss', 'QueueInfoNCELoss', 'SampledInfoNCELoss']
