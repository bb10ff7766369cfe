"""Released Hyperformer (ZhouYuxuanYX/Hyperformer ``model/Hyperformer.py``,
also CSRE's encoder) -> ``RecognizerGCN(Hyperformer, GCNHead)`` keys."""
import re
import warnings

from . import register_converter

_BLOCK = re.compile(r'^l(\d+)\.(.+)$')
_RENAMES = (('vit1.norm1.', 'norm.'), ('vit1.attn.', 'attn.'),
            ('vit1.pe_proj.', 'pe_proj.'), ('vit1.skip_proj.', 'skip_proj.'),
            ('tcn1.', 'tcn.'), ('residual.', 'residual.'))


def _rename(key: str) -> str:
    if key.startswith('data_bn.'):
        return 'backbone.' + key
    if key.startswith('fc.'):
        return 'cls_head.' + key
    m = _BLOCK.match(key)
    if m:
        idx, rest = int(m.group(1)) - 1, m.group(2)
        for old, new in _RENAMES:
            if rest.startswith(old):
                return f'backbone.blocks.{idx}.{new}{rest[len(old):]}'
    raise KeyError(f'hyperformer converter: unexpected released key {key!r} '
                   f'(is this a Hyperformer checkpoint?)')


@register_converter('hyperformer')
def convert_hyperformer(state_dict: dict) -> dict:
    """Rename a released Hyperformer state dict.

    ``l{i}.vit1.{norm1,attn,pe_proj,skip_proj}`` -> ``backbone.blocks.{i-1}
    .{norm,attn,pe_proj,skip_proj}``, ``l{i}.tcn1`` -> ``...tcn``,
    ``data_bn`` -> ``backbone.data_bn``, ``fc`` -> ``cls_head.fc``. The
    STFD branch of CSRE checkpoints (``std.*``) is training-only and is
    dropped with a warning (the result loads into ``hyperformer_*.py``);
    ``--arch hyperformer_csre`` keeps it for ``csre_hyperformer_*.py``.
    """
    out, dropped = {}, []
    for key, value in state_dict.items():
        if key.startswith('std.'):
            dropped.append(key)
            continue
        out[_rename(key)] = value
    if dropped:
        warnings.warn(f'hyperformer converter: dropped {len(dropped)} '
                      f'CSRE STFD tensors (std.*), unused at test time')
    return out


#: released ``STD_unit`` -> :class:`~mmskelcl.models.heads.csre_head.STFD`
_STFD = {'conv1': 'reduce.spatial', 'convs': 'proj.spatial',
         'conv2': 'reduce.temporal', 'convt': 'proj.temporal'}


@register_converter('hyperformer_csre')
def convert_hyperformer_csre(state_dict: dict,
                             head: str = 'csre') -> dict:
    """A released CSRE checkpoint with its STFD, for a CSRE config
    (``AuxRecognizerGCN`` with ``aux_heads.csre``): the encoder and
    classifier as :func:`convert_hyperformer`, ``std.{conv1,convs}`` ->
    ``aux_heads.<head>.stfd.{reduce,proj}.spatial`` and
    ``std.{conv2,convt}`` -> ``...temporal`` (same shapes and flatten
    order; the released temporal Linear is sized for 16 output frames, so
    it loads where the clip gives T' = 16, i.e. 64-frame NTU clips).
    """
    out = {}
    for key, value in state_dict.items():
        if not key.startswith('std.'):
            out[_rename(key)] = value
            continue
        layer, _, rest = key[4:].partition('.')
        if layer not in _STFD:
            raise KeyError(f'hyperformer_csre converter: unexpected STFD '
                           f'key {key!r} (expected std.{{conv1,convs,conv2,'
                           'convt}}.*)')
        out[f'aux_heads.{head}.stfd.{_STFD[layer]}.{rest}'] = value
    return out
