"""Named taps: intermediate backbone outputs requested by auxiliary heads.

A backbone that supports taps lists them in ``available_taps`` and accepts
``forward(x, taps=...)``, returning ``(features, {name: tensor})`` when any
tap is requested and plain features otherwise. Nothing is computed for taps
nobody asked for.

Every tapped backbone also *describes* its taps without a forward pass
(timm's ``feature_info`` is the model): :meth:`TapMixin.tap_info` returns a
:class:`TapInfo` per tap, with its channels, cumulative temporal stride,
axis layout, joints and (given the clip length) frames. The recognizer hands
this table to the auxiliary heads it builds, so heads size themselves.

Adding a tapped backbone::

    @MODELS.register_module()
    class MyGCN(TapMixin, BaseModule):
        def __init__(self, ..., out_taps=()):
            ...
            self.available_taps = ('stage1', 'stage2')
            self.set_taps(out_taps)

        def _tap_table(self):  # channels, per-layer strides, layout, joints
            return dict(stage1=TapInfo(64, (1, ), 'NMCTV', 25),
                        stage2=TapInfo(128, (2, ), 'NMCTV', 25))

        def forward(self, x, taps=None): ...  # (feats, {name: tensor})
"""
import dataclasses
import math
from typing import Dict, Optional, Sequence, Tuple

#: Axis layouts a tap may have. ``N`` batch, ``M`` persons, ``C`` channels,
#: ``T`` frames, ``V`` joints, ``K`` adjacency subsets, ``D`` features.
TAP_LAYOUTS = ('NMCTV', 'NCTV', 'NKVV', 'NMKCVV', 'NMD', 'ND')


@dataclasses.dataclass(frozen=True)
class TapInfo:
    """What one tap is (a frozen dataclass: configs pass it through
    untouched).

    Attributes:
        channels (int): Size of the ``C`` axis (``K`` for graph taps, ``D``
            for vector taps).
        strides (tuple[int]): Temporal strides of the layers between the
            input and the tap, in order (``(2, 2)`` = two stride-2 layers);
            ``()`` for taps without a time axis.
        layout (str): One of :data:`TAP_LAYOUTS`.
        num_joints (int): Size of the ``V`` axis (0 when there is none).
        num_frames (int, optional): Size of the ``T`` axis for the clip
            length given to :meth:`TapMixin.tap_info`; ``None`` when no clip
            length was given or the tap has no time axis.
        ceil_mode (bool): Whether each strided layer rounds up (stride-2
            "same" convolutions, CTR-GCN / ST-GCN) or down (pooling).
        subsets (int): Size of the ``K`` axis when a tap has both ``K``
            and ``C`` (``NMKCVV``); otherwise ``K`` is ``channels``.
    """
    channels: int
    strides: Tuple[int, ...]
    layout: str
    num_joints: int
    num_frames: Optional[int] = None
    ceil_mode: bool = True
    subsets: int = 0

    @property
    def temporal_stride(self) -> int:
        """Cumulative temporal stride (1 without a time axis)."""
        return math.prod(self.strides)

    def frames(self, clip_len: int) -> int:
        """Frames at this tap for ``clip_len`` input frames."""
        t = clip_len
        for s in self.strides:
            t = -(-t // s) if self.ceil_mode else t // s
        return t

    def shape(self, batch: int, persons: int = 1) -> Tuple[int, ...]:
        """The tensor shape this tap has (needs ``num_frames`` for a time
        axis)."""
        sizes = dict(N=batch, M=persons, C=self.channels,
                     K=self.subsets or self.channels, D=self.channels,
                     T=self.num_frames, V=self.num_joints)
        return tuple(sizes[a] for a in self.layout)


class TapMixin:
    """Bookkeeping for backbones with named taps.

    Subclasses set ``available_taps``, call :meth:`set_taps` and implement
    :meth:`_tap_table`.
    """

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

    def _tap_table(self) -> Dict[str, TapInfo]:
        """Every available tap's :class:`TapInfo` without ``num_frames``."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement _tap_table() to publish '
            'its taps (see mmskelcl.models.utils.taps)')

    def tap_info(self, num_frames: Optional[int] = None
                 ) -> Dict[str, TapInfo]:
        """Describe every available tap, computed from the config.

        Args:
            num_frames (int, optional): The clip length fed to the backbone;
                fills :attr:`TapInfo.num_frames` of taps with a time axis.

        Returns:
            dict[str, TapInfo]: Keyed like ``available_taps``.
        """
        table = self._tap_table()
        missing = [t for t in self.available_taps if t not in table]
        if missing:
            raise RuntimeError(f'{type(self).__name__} publishes no TapInfo '
                               f'for taps {missing}')
        out = {}
        for name in self.available_taps:
            info = table[name]
            if info.layout not in TAP_LAYOUTS:
                raise RuntimeError(f'tap {name!r}: unknown layout '
                                   f'{info.layout!r}')
            if num_frames is not None and 'T' in info.layout:
                info = dataclasses.replace(
                    info, num_frames=info.frames(num_frames))
            out[name] = info
        return out


def block_tap_table(specs: Sequence[Tuple[int, int]], num_joints: int
                    ) -> Dict[str, TapInfo]:
    """Taps of a stack of blocks: ``block<i>`` (1-based) from each block's
    ``(channels, temporal stride)``, and ``final`` = the last block (the map
    before pooling), all ``NMCTV``."""
    table, strides = {}, ()
    for i, (channels, stride) in enumerate(specs, 1):
        strides = strides + (stride, )
        table[f'block{i}'] = TapInfo(channels, strides, 'NMCTV', num_joints)
    table['final'] = table[f'block{len(specs)}']
    return table


def run_blocks(blocks: Sequence, x, N: int, M: int, taps: Sequence[str],
               *args) -> Tuple:
    """Run ``blocks`` on ``(N * M, C, T, V)`` (each called as
    ``block(x, *args)``), recording the requested ``block<i>`` taps and
    ``final``.

    Returns:
        tuple: the output ``(N, M, C', T', V)`` and the dict of taps.
    """
    out = {}
    for i, block in enumerate(blocks, 1):
        x = block(x, *args)
        if f'block{i}' in taps:
            out[f'block{i}'] = x.view(N, M, *x.shape[1:])
    x = x.view(N, M, *x.shape[1:])
    if 'final' in taps:
        out['final'] = x
    return x, out


def supports_taps(backbone) -> bool:
    """Whether a backbone implements the tap protocol."""
    return isinstance(backbone, TapMixin)
