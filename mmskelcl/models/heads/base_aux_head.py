"""Base class of training-only auxiliary heads."""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModule


class BaseAuxHead(BaseModule, metaclass=ABCMeta):
    """A head that reads backbone taps during training and returns losses.

    Subclasses declare the taps they need in ``required_taps`` and implement
    :meth:`loss`. They are never called at inference, so a checkpoint trained
    with auxiliary heads loads into the plain recognizer (their parameters
    and buffers are simply unused keys; see
    :func:`mmskelcl.models.recognizers.strip_aux_state`).

    Args:
        required_taps (Sequence[str]): Backbone taps this head reads.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 required_taps: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.required_taps: Tuple[str, ...] = tuple(required_taps)

    @abstractmethod
    def loss(self, taps: Dict[str, torch.Tensor], logits: torch.Tensor,
             labels: torch.Tensor, sample_idx: torch.Tensor,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the auxiliary losses.

        Args:
            taps (dict[str, Tensor]): The backbone taps named in
                ``required_taps`` (and possibly others).
            logits (Tensor): Classifier scores ``(B, K)`` (not detached; a
                head that must not back-propagate into them detaches).
            labels (Tensor): Ground-truth labels ``(B,)``.
            sample_idx (Tensor): Dataset indices ``(B,)`` of the samples.

        Returns:
            dict[str, Tensor]: Named losses (names start with ``loss``).
        """


def current_epoch() -> int:
    """The Runner's current (0-based) epoch, from mmengine's MessageHub (0
    outside a run); heads use it for their ``start_epoch``."""
    return int(MessageHub.get_current_instance().get_info('epoch', 0) or 0)
