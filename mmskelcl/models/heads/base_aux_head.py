"""Base class of training-only auxiliary heads."""
from abc import ABCMeta, abstractmethod
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModule

from ..utils.taps import TapInfo


class BaseAuxHead(BaseModule, metaclass=ABCMeta):
    """A head that reads backbone taps during training and returns losses.

    The contract with :class:`~mmskelcl.models.AuxRecognizerGCN`:

    * ``required_taps``: the backbone taps the head reads;
    * ``tap_info``: the backbone's published :class:`TapInfo` table (for
      the recognizer's clip length), handed over by the recognizer when it
      builds the head (``default_args``), so the head sizes itself from it
      and configs state no channels, strides, frames or joints;
    * ``num_classes``: handed over likewise (the classifier's);
    * ``needs_sample_idx``: whether :meth:`loss` needs the samples'
      dataset indices (``sample_idx`` in ``PackActionInputs.meta_keys``);
    * :meth:`loss` gets the taps, the logits, the labels, the indices (or
      ``None``) and, as keywords, the backbone's final ``feats`` and the
      ``data_samples``.

    Heads are never called at inference, so a checkpoint trained with them
    loads into the plain recognizer (see
    :func:`mmskelcl.models.recognizers.strip_aux_state`).

    Args:
        required_taps (Sequence[str]): Backbone taps this head reads.
        tap_info (Mapping[str, TapInfo], optional): The backbone's taps.
        init_cfg (dict, optional): mmengine init config.
    """

    needs_sample_idx: bool = False

    def __init__(self,
                 required_taps: Sequence[str] = (),
                 tap_info: Optional[Mapping[str, TapInfo]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.required_taps: Tuple[str, ...] = tuple(required_taps)
        self.tap_info: Dict[str, TapInfo] = dict(tap_info or {})

    def tap(self, name: str, what: str = 'its size') -> TapInfo:
        """The published :class:`TapInfo` of tap ``name``; a clear error
        when the head was built without it (built outside a recognizer)."""
        if name not in self.tap_info:
            raise ValueError(
                f'{type(self).__name__} needs {what} for tap {name!r}: build '
                'it inside AuxRecognizerGCN (which passes the backbone\'s '
                'tap_info) or state the size in the head config')
        return self.tap_info[name]

    @abstractmethod
    def loss(self, taps: Dict[str, torch.Tensor], logits: torch.Tensor,
             labels: torch.Tensor, sample_idx: Optional[torch.Tensor],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the auxiliary losses.

        Args:
            taps (dict[str, Tensor]): The backbone taps named in
                ``required_taps`` (and possibly others).
            logits (Tensor): Classifier scores ``(B, K)`` (not detached; a
                head that must not back-propagate into them detaches).
            labels (Tensor): Ground-truth labels ``(B,)``.
            sample_idx (Tensor, optional): Dataset indices ``(B,)`` of the
                samples (``None`` unless some head ``needs_sample_idx``).
            **kwargs: ``feats`` (the backbone's output ``(N, M, C, T, V)``),
                ``inputs`` (the clips ``(N, M, T, V, C)``) and
                ``data_samples``.

        Returns:
            dict[str, Tensor]: Named losses (names start with ``loss``).
        """


def current_epoch() -> int:
    """The Runner's current (0-based) epoch, from mmengine's MessageHub (0
    outside a run); heads use it for their ``start_epoch``."""
    return int(MessageHub.get_current_instance().get_info('epoch', 0) or 0)
