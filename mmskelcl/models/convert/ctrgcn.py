"""Released CTR-GCN (Uason-Chen/CTR-GCN ``model/ctrgcn.py``) and FR-Head
(zhysora/FR-Head ``model/ctrgcn.py``) checkpoints -> :class:`CTRGCN` +
``GCNHead`` keys.

Both releases name the ten units ``l1`` ... ``l10`` with ``gcn1`` / ``tcn1``
/ ``residual`` inside; this project names them ``backbone.blocks.0`` ...
``backbone.blocks.9`` with ``gcn`` / ``tcn`` / ``residual``. Every tensor
below a unit keeps its sub-path (``convs.k.conv1``, ``down.0``, ``PA``,
``alpha``, ``bn``, ``branches.b.i``), so the renaming is one rule per
prefix. FR-Head's checkpoints also hold its training-only contrastive
modules ``ren_low`` / ``ren_mid`` / ``ren_high`` / ``ren_fin``; ``frhead``
drops them (the trained encoder + classifier is a plain CTR-GCN).

A released model built with ``adaptive=False`` keeps its adjacency outside
the state dict; this project's ``CTRGCN(adaptive=False)`` stores it as the
buffer ``PA``, so such a checkpoint converts with those keys missing (the
loader names them).
"""
import re
from typing import Dict, Iterable

from . import register_converter

_UNIT = re.compile(r'^l(\d+)\.(gcn1|tcn1|residual)\.(.+)$')
_SUB = {'gcn1': 'gcn', 'tcn1': 'tcn', 'residual': 'residual'}
#: Modules of the released CTR-GCN ``unit_gcn``.
CTRGCN_GCN = ('convs', 'down', 'PA', 'alpha', 'bn')


def convert_ten_units(state_dict: Dict, arch: str, gcn_modules: Iterable[str],
                      drop_prefixes: Iterable[str] = ()) -> Dict:
    """Rename a released ``data_bn`` / ``l1..lN`` / ``fc`` state dict.

    Shared by the CTR-GCN lineage (CTR-GCN, FR-Head, 2s-AGCN), whose units
    all hold ``gcn1`` / ``tcn1`` / ``residual``.

    Args:
        state_dict (dict): Released tensors (no ``module.`` prefix).
        arch (str): Architecture name, for error messages.
        gcn_modules (Iterable[str]): The first sub-path components a
            released ``gcn1`` of this architecture has (so that a checkpoint
            of a sibling architecture is refused, not silently renamed).
        drop_prefixes (Iterable[str]): Top-level modules to leave out.

    Returns:
        dict: ``backbone.*`` and ``cls_head.fc.*`` tensors.

    Raises:
        KeyError: A key that belongs to none of the released modules (the
            checkpoint is of another architecture).
    """
    drop = tuple(f'{p}.' for p in drop_prefixes)
    gcn_modules = set(gcn_modules)
    out, unknown = {}, []
    for key, value in state_dict.items():
        if drop and key.startswith(drop):
            continue
        m = _UNIT.match(key)
        if m and (m.group(2) != 'gcn1'
                  or m.group(3).split('.')[0] in gcn_modules):
            idx, sub, rest = int(m.group(1)), m.group(2), m.group(3)
            out[f'backbone.blocks.{idx - 1}.{_SUB[sub]}.{rest}'] = value
        elif key.startswith('data_bn.'):
            out[f'backbone.{key}'] = value
        elif key.startswith('fc.'):
            out[f'cls_head.{key}'] = value
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(
            f'{arch}: {len(unknown)} key(s) of no released {arch} module, '
            f'e.g. {unknown[:3]}; is this a checkpoint of another '
            f'architecture? (see tools/convert_weights.py --help)')
    return out


@register_converter('ctrgcn')
def convert_ctrgcn(state_dict: Dict) -> Dict:
    """Released CTR-GCN -> ``CTRGCN`` + ``GCNHead``."""
    return convert_ten_units(state_dict, 'ctrgcn', CTRGCN_GCN)


@register_converter('frhead')
def convert_frhead(state_dict: Dict) -> Dict:
    """Released FR-Head (CTR-GCN + ``ren_*`` heads) -> ``CTRGCN`` +
    ``GCNHead``; the training-only ``ren_*`` modules are dropped."""
    return convert_ten_units(
        state_dict, 'frhead', CTRGCN_GCN,
        drop_prefixes=('ren_low', 'ren_mid', 'ren_high', 'ren_fin'))
