"""docs/configs.md is the table tools/misc/config_table.py makes from the
configs on disk (it cannot go stale), the table reads names as written,
unknown names are errors, and what a name says matches what the config
builds (method, encoder and stream read from loaded configs)."""
import os.path as osp

import pytest
from mmengine.config import Config
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TABLE = load_tool('misc/config_table.py')


def test_docs_table_matches_the_configs_on_disk():
    with open(osp.join(REPO, 'docs', 'configs.md'), encoding='utf-8') as f:
        doc = f.read()
    assert doc == TABLE.render(TABLE.scan(osp.join(REPO, 'configs'))), (
        'docs/configs.md is stale: run python tools/misc/config_table.py '
        '--write')
    assert TABLE.main(['--check']) == 0


def _touch(root, *paths):
    for p in paths:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text('')


def test_rows_of_a_small_tree(tmp_path):
    _touch(tmp_path, 'nwucla/cacl_ctrgcn_b.py', 'nwucla/cacl_ctrgcn_j.py',
           'nwucla/_base_cacl_ctrgcn.py', 'nwucla/ctrgcn_j.py',
           'ntu60_xsub/skeattnclr_stgcn_m_semi1.py',
           'ntu60_xsub/skeattnclr_stgcn_j_semi1.py', '_base_/models/x.py')
    text = TABLE.render(TABLE.scan(str(tmp_path)))
    assert '5 configs in 2 dataset folders' in text
    ntu = text.index('## `configs/ntu60_xsub/`')
    ucla = text.index('## `configs/nwucla/`')
    assert ntu < ucla  # the datasets' order, not the alphabet's
    assert ('| SkeAttnCLR | ST-GCN | semi-supervised, 1 % labels | j m | '
            '`skeattnclr_stgcn_<s>_semi1.py` |') in text[ntu:ucla]
    body = text[ucla:].splitlines()
    assert body[4:] == [  # plain encoder first, streams in j b order
        '| plain encoder | CTR-GCN | supervised | j | `ctrgcn_<s>.py` |',
        '| CACL | CTR-GCN | supervised | j b | `cacl_ctrgcn_<s>.py` |']
    assert '| CACL | CTR-GCN | - | ✓ |' in text


def test_combined_method_names():
    """The longest known method prefix: three heads, not CACL alone."""
    n = TABLE.parse_name('configs/nwucla/cacl_frhead_csre_ctrgcn_jm.py')
    assert (n.method, n.encoder, n.stream) == ('cacl_frhead_csre', 'ctrgcn',
                                               'jm')
    assert TABLE.METHODS[n.method] == 'CACL + FR-Head + CSRE'


@pytest.mark.parametrize('path,what', [
    ('nwucla/csre_gcn_j.py', 'cannot read method, encoder'),
    ('nwucla/ctrgcn_joint.py', 'cannot read method, encoder'),
    ('nwucla/ctrgcn_j_long.py', 'cannot read method, encoder'),
    ('nwucla/csre_cacl_ctrgcn_j.py', 'cannot read method, encoder'),
    ('pku/ctrgcn_j.py', "unknown dataset folder 'pku'"),
])
def test_unknown_names_are_errors(tmp_path, capsys, path, what):
    _touch(tmp_path, path)
    with pytest.raises(ValueError, match=what) as err:
        TABLE.scan(str(tmp_path))
    assert str(tmp_path / path) in str(err.value)
    assert 'tools/misc/config_table.py' in str(err.value)
    assert TABLE.main(['--configs', str(tmp_path)]) == 2
    assert path.split('/')[-1] in capsys.readouterr().err


# independent of the script: what each name must build
BACKBONES = dict(ctrgcn='CTRGCN', stgcnpp=('STGCN', 'STGCNTaps'),
                 agcn='AGCN', blockgcn='BlockGCN', hyperformer='Hyperformer',
                 infogcn='InfoGCN', hcn='HCN', stgcn='STGCNTaps',
                 bigru='BiGRU', dsta='DSTANet')
AUX = dict(cacl=('graph', 'GraphContrastHead'),
           skeletongcl=('graph', 'GraphContrastHead'),
           frhead=('fr', 'FRHead'), csre=('csre', 'CSREHead'))


def _inner(ds):
    while 'dataset' in ds:
        ds = ds['dataset']
    return ds


def test_names_say_what_the_configs_build():
    """One config per (method, encoder, protocol) of the NTU60 X-Sub
    folder, loaded: its backbone, training-only head and stream."""
    seen, checked = set(), 0
    for n in TABLE.scan(osp.join(REPO, 'configs')):
        if n.dataset != 'ntu60_xsub' or \
                (n.method, n.encoder, n.protocol) in seen:
            continue
        seen.add((n.method, n.encoder, n.protocol))
        cfg = Config.fromfile(n.path)
        backbone = cfg.model.backbone.type
        assert backbone in BACKBONES[n.encoder] or backbone == \
            BACKBONES[n.encoder], n.path
        heads = cfg.model.get('aux_heads') or {}
        parts = n.method.split('_') if n.method else []
        if parts and all(p in AUX for p in parts):  # one head or several
            assert cfg.model.type == 'AuxRecognizerGCN', n.path
            assert list(heads) == [AUX[p][0] for p in parts], n.path
            assert [heads[AUX[p][0]].type for p in parts] == [
                AUX[p][1] for p in parts], n.path
        else:
            assert not heads, n.path
        if n.method == 'skeletongcl':
            assert heads['graph'].proj_trainable is False
        if n.protocol == 'pretrain':
            assert cfg.model.type == 'SkeAttnCLR'
            assert cfg.model.stream == n.stream
        else:
            stream = _inner(cfg.train_dataloader.dataset)['stream']
            stream = stream[0] if isinstance(stream, (list, tuple)) \
                else stream  # BlockGCN appends the joints
            assert stream == {'m': 'jm'}.get(n.stream, n.stream), n.path
        checked += 1
    assert checked == len(seen) >= 20


def test_docs_links_resolve_inside_the_repository():
    """Every relative link of README.md and docs/*.md names a file of the
    repository; nothing points at material users do not have."""
    import glob
    import re
    pages = [osp.join(REPO, 'README.md')] + sorted(
        glob.glob(osp.join(REPO, 'docs', '*.md')))
    assert len(pages) >= 8
    for page in pages:
        text = open(page, encoding='utf-8').read()
        assert '../shared' not in text and 'specs/' not in text, page
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if target.startswith(('http://', 'https://')):
                continue
            path, _, anchor = target.partition('#')
            if path:
                assert osp.exists(osp.join(osp.dirname(page), path)), \
                    f'{page}: broken link {target}'
            elif anchor:  # a heading of this page (GitHub's slugs)
                slugs = {re.sub(r'[^\w\- ]', '', h.strip().lower())
                         .replace(' ', '-')
                         for h in re.findall(r'^#+ (.+)$', text, re.M)}
                assert anchor in slugs, f'{page}: no heading for #{anchor}'
