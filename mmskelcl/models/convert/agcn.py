"""Released 2s-AGCN (lshiwjx/2s-AGCN ``model/agcn.py``) checkpoints ->
:class:`AGCN` + ``GCNHead`` keys.

The released units ``l1`` ... ``l10`` hold ``gcn1`` (``conv_a``,
``conv_b``, ``conv_d``, ``PA``, ``down``, ``bn``), ``tcn1`` (``conv``,
``bn``) and ``residual`` (``conv``, ``bn``); ours are
``backbone.blocks.0`` ... ``backbone.blocks.9`` with ``gcn`` / ``tcn`` /
``residual`` and the same sub-paths. The fixed adjacency ``A`` is not in
the released state dict (a ``Variable`` attribute) nor in ours (rebuilt
from the layout).
"""
from typing import Dict

from . import register_converter
from .ctrgcn import convert_ten_units


@register_converter('agcn')
def convert_agcn(state_dict: Dict) -> Dict:
    """Released 2s-AGCN -> ``AGCN`` + ``GCNHead``."""
    return convert_ten_units(
        state_dict, 'agcn', ('conv_a', 'conv_b', 'conv_d', 'PA', 'down', 'bn'))
