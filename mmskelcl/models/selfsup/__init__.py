"""Self-supervised algorithms (their own models, not auxiliary heads)."""
from ..losses.queue_infonce import QueueInfoNCELoss  # noqa: F401 (registers)
from ..necks import AttnMaskNeck, MLP1D  # noqa: F401 (registers)
from ..utils.skeleton_mix import SkeletonPartMix, convert_stream
from .skeattnclr import SkeAttnCLR

__all__ = ['SkeAttnCLR', 'SkeletonPartMix', 'convert_stream']
