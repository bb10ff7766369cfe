"""Released BlockGCN (``ZhouYuxuanYX/BlockGCN``, ``model.BlockGCN.Model``)
checkpoints -> :class:`~mmskelcl.models.backbones.BlockGCN` +
``GCNHead`` keys."""
import re

from . import register_converter

_RULES = (
    (r'^to_joint_embedding\.', 'backbone.stem.embed.'),
    (r'^pos_embedding$', 'backbone.stem.pos_embed'),
    (r'^data_bn\.', 'backbone.stem.data_bn.'),
    (r'^topo\.pl\.', 'backbone.stem.topo.'),
    (r'^fc\.', 'cls_head.fc.'),
)


def _rename(key: str) -> str:
    for pattern, repl in _RULES:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key)
    m = re.match(r'^t(\d+)\.(mlp|bn)\.(.+)$', key)
    if m:  # TopoTrans t{i} feeds block l{i+1}
        part = 'topo_fc' if m.group(2) == 'mlp' else 'topo_bn'
        return f'backbone.blocks.{m.group(1)}.{part}.{m.group(3)}'
    m = re.match(r'^l(\d+)\.(gcn1|tcn1|residual)\.(.+)$', key)
    if m:
        part = dict(gcn1='gcn', tcn1='tcn', residual='residual')[m.group(2)]
        return f'backbone.blocks.{int(m.group(1)) - 1}.{part}.{m.group(3)}'
    raise KeyError(f'BlockGCN converter: unexpected key {key!r} (is this a '
                   'released model.BlockGCN.Model checkpoint?)')


@register_converter('blockgcn')
def convert_blockgcn(state_dict: dict) -> dict:
    """Rename a released BlockGCN state dict (``l1..l10``, ``t0..t9``,
    ``topo.pl``, ``fc``) to this project's recognizer keys."""
    return {_rename(k): v for k, v in state_dict.items()}
