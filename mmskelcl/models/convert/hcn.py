"""Released HCN (huguyuehuhu/HCN-pytorch ``model/HCN.py``) checkpoints ->
:class:`HCN` + :class:`HCNHead` keys.

Released: ``conv1.0`` / ``conv2`` / ``conv3.0`` / ``conv4.0`` for the
joint (position) stream, the same with an ``m`` suffix for the motion
stream, ``conv5.0``, ``conv6.0``, ``fc7.0`` and ``fc8``. Ours:
``backbone.conv{1..4}.{joint,motion}``, ``backbone.conv5``,
``backbone.conv6``, ``cls_head.fc7`` and ``cls_head.fc``.
"""
import re
from typing import Dict

from . import register_converter

_KEY = re.compile(r'^(conv[1-6]|fc7|fc8)(m?)(?:\.0)?\.(weight|bias)$')


@register_converter('hcn')
def convert_hcn(state_dict: Dict) -> Dict:
    """Released HCN -> ``HCN`` + ``HCNHead``."""
    out, unknown = {}, []
    for key, value in state_dict.items():
        m = _KEY.match(key)
        if not m or (m.group(2) and m.group(1) in ('conv5', 'conv6', 'fc7',
                                                   'fc8')):
            unknown.append(key)
            continue
        name, motion, param = m.groups()
        if name == 'fc8':
            out[f'cls_head.fc.{param}'] = value
        elif name == 'fc7':
            out[f'cls_head.fc7.{param}'] = value
        elif name in ('conv5', 'conv6'):
            out[f'backbone.{name}.{param}'] = value
        else:
            stream = 'motion' if motion else 'joint'
            out[f'backbone.{name}.{stream}.{param}'] = value
    if unknown:
        raise KeyError(f'hcn: {len(unknown)} key(s) of no released HCN '
                       f'module, e.g. {unknown[:3]}; is this a checkpoint '
                       f'of another architecture?')
    return out
