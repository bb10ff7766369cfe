"""What the released-init encoders share, and the frame of the block-stack
GCNs (CTR-GCN, 2s-AGCN, BlockGCN, InfoGCN, Hyperformer: a stem, then
``num_stages`` blocks whose channels double at ``inflate_stages`` and whose
temporal stride is 2 at ``down_stages``).

A block-stack encoder builds its blocks from :func:`stage_plan`, then calls
:meth:`BlockStackMixin._finish_init` last in ``__init__``; it implements
:meth:`released_init`, ``_stage_modules`` and ``_stem_forward`` and gets
``forward``, ``init_weights``, ``frozen_stages`` / ``norm_eval``, the
``block<i>`` / ``final`` taps and their
:class:`~mmskelcl.models.utils.taps.TapInfo` table.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from .freeze import FreezeMixin
from .taps import TapMixin, block_tap_table, run_blocks


def stage_plan(base_channels: int,
               num_stages: int,
               inflate_stages: Sequence[int],
               down_stages: Sequence[int],
               ratio: int = 2) -> List[Tuple[int, int]]:
    """``(channels, temporal stride)`` of blocks ``1 .. num_stages``: the
    channels are multiplied by ``ratio`` at each stage in
    ``inflate_stages``, the stride is 2 at each stage in ``down_stages``.

    Example: ``stage_plan(64, 4, (3, ), (3, ))`` is
    ``[(64, 1), (64, 1), (128, 2), (128, 1)]``.
    """
    plan, channels = [], base_channels
    for i in range(1, num_stages + 1):
        channels *= ratio if i in inflate_stages else 1
        plan.append((channels, 2 if i in down_stages else 1))
    return plan


def stage_io(in_channels: int, plan: Sequence[Tuple[int, int]]
             ) -> List[Tuple[int, int, int]]:
    """``(input channels, output channels, stride)`` of each block of
    ``plan`` (from :func:`stage_plan`) whose first block reads
    ``in_channels``."""
    inputs = [in_channels] + [c for c, _ in plan[:-1]]
    return [(c_in, c, s) for c_in, (c, s) in zip(inputs, plan)]


class ReleasedInitMixin:
    """``init_weights()`` is the released initialisation
    (:meth:`released_init`) unless an ``init_cfg`` is given; put it before
    ``BaseModule`` in the bases."""

    def released_init(self) -> None:
        """The initialisation of the released code."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement released_init()')

    def init_weights(self) -> None:
        """Released initialisation unless an ``init_cfg`` is given."""
        if self.init_cfg is None:
            self.released_init()
        else:
            super().init_weights()


class BlockStackMixin(ReleasedInitMixin, FreezeMixin, TapMixin):
    """Taps, freezing and initialisation of a block-stack encoder.

    Taps: ``block1 .. block<num_stages>``, then :attr:`extra_taps`, then
    ``final`` (the last block's output, the map before pooling), all
    ``NMCTV`` but the extra ones (described by :meth:`_extra_tap_table`).
    """

    #: Taps besides the blocks and ``final`` (listed before ``final``).
    extra_taps: Tuple[str, ...] = ()

    def _finish_init(self, stage_specs: Sequence[Tuple[int, int]],
                     out_taps: Sequence[str], frozen_stages: int,
                     norm_eval: bool) -> None:
        """Record the blocks' ``(channels, stride)``, freeze, publish the
        taps and, without an ``init_cfg``, apply :meth:`released_init` (in
        this order: it is the order of the released constructors' random
        draws). Call it last in ``__init__``."""
        self._stage_specs = [tuple(s) for s in stage_specs]
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self._freeze_stages()
        self.available_taps = tuple(
            [f'block{i}' for i in range(1, len(self._stage_specs) + 1)] +
            list(self.extra_taps) + ['final'])
        self.set_taps(out_taps)
        if self.init_cfg is None:
            self.released_init()

    def _extra_tap_table(self) -> dict:
        """:class:`TapInfo` of each of :attr:`extra_taps`."""
        return {}

    def _tap_table(self) -> dict:
        table = block_tap_table(self._stage_specs, self.num_joints)
        table.update(self._extra_tap_table())
        return table


    def _check_persons(self, x: torch.Tensor) -> None:
        """The ``MVC`` data BN is sized for ``num_person`` person slots."""
        if x.shape[1] != self.num_person:
            raise ValueError(
                f'{type(self).__name__} was built with num_person='
                f'{self.num_person} (MVC data BN) but got inputs with '
                f'{x.shape[1]} persons')

    def _stem_forward(self, x: torch.Tensor
                      ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """The input ``(N, M, T, V, C)`` as the first block reads it,
        ``(N * M, C', T, V)``, and the extra arguments every block takes."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement _stem_forward()')

    def forward(self,
                x: torch.Tensor,
                taps: Optional[Sequence[str]] = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict]]:
        """Forward.

        Args:
            x (torch.Tensor): ``(N, M, T, V, C)``.
            taps (Sequence[str], optional): Taps to return; ``None`` uses
                the configured ``out_taps``.

        Returns:
            torch.Tensor or tuple: ``(N, M, C', T', V)``, plus a dict of the
            requested taps when any are requested.
        """
        taps = self._check_taps(self.out_taps if taps is None else taps)
        N, M = x.shape[:2]
        x, extra = self._stem_forward(x)
        x, out = run_blocks(self.blocks, x, N, M, taps, *extra)
        return (x, out) if taps else x


__all__ = ['stage_plan', 'stage_io', 'ReleasedInitMixin', 'BlockStackMixin']
