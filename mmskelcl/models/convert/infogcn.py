"""Released InfoGCN (``stnoah1/infogcn``, ``model.infogcn.InfoGCN``)
checkpoints -> :class:`~mmskelcl.models.backbones.InfoGCN` +
:class:`~mmskelcl.models.heads.InfoGCNHead` keys. The release does not save
``z_prior``; the head keeps its own when loading."""
import re

from . import register_converter

_RULES = (
    (r'^to_joint_embedding\.', 'backbone.stem.embed.'),
    (r'^pos_embedding$', 'backbone.stem.pos_embed'),
    (r'^data_bn\.', 'backbone.stem.data_bn.'),
    (r'^(fc|fc_mu|fc_logvar|decoder)\.', r'cls_head.\1.'),
    (r'^z_prior$', 'cls_head.z_prior'),
)


def _rename(key: str) -> str:
    for pattern, repl in _RULES:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key)
    m = re.match(r'^l(\d+)\.(agcn|tcn|residual)\.(.+)$', key)
    if m:
        block = f'backbone.blocks.{int(m.group(1)) - 1}'
        part, rest = m.group(2), m.group(3)
        if part == 'agcn':
            return f'{block}.gcn.{re.sub(r"^attn[.]", "", rest)}'
        return f'{block}.{part}.{rest}'
    raise KeyError(f'InfoGCN converter: unexpected key {key!r} (is this a '
                   'released model.infogcn.InfoGCN checkpoint?)')


@register_converter('infogcn')
def convert_infogcn(state_dict: dict) -> dict:
    """Rename a released InfoGCN state dict (``l1..l9``, ``fc``,
    ``fc_mu``, ``fc_logvar``, ``decoder``) to this project's keys."""
    return {_rename(k): v for k, v in state_dict.items()}
