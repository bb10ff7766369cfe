"""Fusion weights: the published presets and their resolution."""
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

#: Named weight sets; stream order is (joint, bone, joint-motion,
#: bone-motion). ``ctrgcn`` is CTR-GCN's ``ensemble.py``; ``pyskl`` is the
#: 2:2:1:1 of the PySKL / MMAction2 model zoos; ``frhead_*`` are the
#: per-benchmark sets of FR-Head's ``ensemble.py``; ``csre_*`` CSRE's
#: nominal alphas (``_2s``: joint + bone only). All are fixed a priori:
#: never choose weights by searching on the test set.
WEIGHT_PRESETS: Dict[str, Tuple[float, ...]] = {
    'ctrgcn': (0.6, 0.6, 0.4, 0.4),
    'pyskl': (2.0, 2.0, 1.0, 1.0),
    'frhead_ntu60_xsub': (2.0, 2.0, 1.0, 1.0),
    'frhead_ntu60_xview': (0.6, 0.6, 0.4, 0.4),
    'frhead_nwucla': (0.6, 0.6, 0.4, 0.4),
    'frhead_ntu120_xsub': (0.6, 0.75, 0.3, 0.15),
    'frhead_ntu120_xset': (0.6, 0.75, 0.3, 0.15),
    # CSRE's ensemble.py nominal alphas (dead there: its skopt search on
    # the test set overrides them; never reproduced here). ``_2s`` = J + B:
    # the first two alphas (our choice; the script only searches 2S).
    'csre_ntu': (0.6, 0.7, 0.35, 0.2),
    'csre_ntu_2s': (0.6, 0.7),
    'csre_nwucla': (0.7, 0.5, 0.6, 0.2),
    'csre_nwucla_2s': (0.7, 0.5),
}

#: Order of the streams the presets refer to.
PRESET_STREAM_ORDER: Tuple[str, ...] = ('j', 'b', 'jm', 'bm')


def resolve_weights(weights: Optional[Union[str, Sequence[Union[str, float]]]],
                    num_streams: int) -> Tuple[float, ...]:
    """Turn a preset name or a list of numbers into one weight per stream.

    Args:
        weights (str | Sequence[str | float] | None): ``None`` for equal
            weights (1.0 each), a preset name of :data:`WEIGHT_PRESETS`
            (alone or as the single item of a sequence) or numbers (floats
            or numeric strings, as given on the command line).
        num_streams (int): Number of streams to fuse.

    Returns:
        tuple[float]: ``num_streams`` weights.

    Raises:
        ValueError: Unknown preset, non-numeric weight, or a number of
            weights different from ``num_streams``.
    """
    if num_streams < 1:
        raise ValueError('at least one stream is needed')
    if weights is None:
        return (1.0, ) * num_streams
    if isinstance(weights, str):
        weights = [weights]
    weights = list(weights)
    source = 'weights'
    if len(weights) == 1 and isinstance(weights[0], str) and \
            not _is_number(weights[0]):
        name = weights[0]
        if name not in WEIGHT_PRESETS:
            raise ValueError(
                f'unknown weight preset {name!r}; known presets: '
                + ', '.join(f'{k}={list(v)}'
                            for k, v in WEIGHT_PRESETS.items())
                + ' (or give one number per stream)')
        weights = list(WEIGHT_PRESETS[name])
        source = f'preset {name!r} (stream order ' \
            f'{"/".join(PRESET_STREAM_ORDER)})'
    values = []
    for w in weights:
        if not _is_number(w):
            raise ValueError(f'weight {w!r} is not a number')
        values.append(float(w))
    if len(values) != num_streams:
        raise ValueError(
            f'{source} gives {len(values)} weights {values} but there are '
            f'{num_streams} streams; give exactly one weight per stream')
    return tuple(values)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a number or a string holding one."""
    if isinstance(value, (int, float, np.number)) and \
            not isinstance(value, bool):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------
# alignment, fusion, metrics
# --------------------------------------------------------------------------
