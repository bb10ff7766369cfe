"""Named taps: intermediate backbone outputs requested by auxiliary heads.

A backbone that supports taps lists them in ``available_taps`` and accepts
``forward(x, taps=...)``, returning ``(features, {name: tensor})`` when any
tap is requested and plain features otherwise. Nothing is computed for taps
nobody asked for.
"""
from typing import Sequence, Tuple


class TapMixin:
    """Bookkeeping for backbones with named taps."""

    available_taps: Tuple[str, ...] = ()
    out_taps: Tuple[str, ...] = ()

    def _check_taps(self, taps: Sequence[str]) -> Tuple[str, ...]:
        taps = tuple(taps)
        unknown = [t for t in taps if t not in self.available_taps]
        if unknown:
            raise ValueError(
                f'{type(self).__name__} has no tap(s) {unknown}; available: '
                f'{list(self.available_taps)}')
        return taps

    def set_taps(self, taps: Sequence[str]) -> None:
        """Set the taps returned by default (validated)."""
        self.out_taps = self._check_taps(taps)


def supports_taps(backbone) -> bool:
    """Whether a backbone implements the tap protocol."""
    return isinstance(backbone, TapMixin)
