"""The documentation site: generated pages are current, the registered-names
page lists every class ``import mmskelcl`` registers, and the strict build
of ``mkdocs.yml`` fails on a broken link or anchor (issue 23)."""
import os.path as osp
import re
import subprocess
import sys

import pytest

from tool_helpers import load_module, load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _docs_tables():
    return load_tool('misc/docs_tables.py')


def _assert_current(pages):
    for rel, text in pages.items():
        path = osp.join(REPO, rel)
        assert osp.isfile(path), f'{rel} missing: run docs_tables.py --write'
        with open(path, encoding='utf-8') as f:
            assert f.read() == text, \
                f'{rel} is stale: run python tools/misc/docs_tables.py --write'


def test_generated_pages_are_current():
    """`python tools/misc/docs_tables.py --write` was run after the last
    change to a registry, a docstring path or the fusion presets."""
    pages = _docs_tables().render_all(parameters=False)
    assert len(pages) >= 6
    _assert_current(pages)


@pytest.mark.slow
def test_parameter_table_is_current():
    """About a minute: builds every encoder and method model of the table
    and compares the page; spot-checks counts published by the releases."""
    tables = _docs_tables()
    text = tables.render_parameters()
    _assert_current({tables.PARAMS_DOC: text})
    # the released CTR-GCN (NTU60 / NW-UCLA) and FR-Head head (NTU sizes)
    assert '| `ntu60_xsub` | CTR-GCN | 1,446,672 |' in text
    assert '| `nwucla` | CTR-GCN | 1,426,892 |' in text
    row = [r for r in text.splitlines()
           if r.startswith('| `ntu60_xsub` | CTR-GCN |')][0]
    assert row.split(' | ')[5] == '536,956'


def _registered_by_walking_children():
    """Every (name, module.QualName) of mmskelcl in any registry, found by
    walking mmengine's root registries and all their descendants (another
    route than the generator's, which reads the registry module attributes).
    """
    import mmengine.registry as root
    from mmengine.registry import Registry

    import mmskelcl  # noqa: F401
    found, stack, seen = set(), [], set()
    for attr in dir(root):
        reg = getattr(root, attr)
        if isinstance(reg, Registry):
            stack.append(reg)
    while stack:
        reg = stack.pop()
        if id(reg) in seen:
            continue
        seen.add(id(reg))
        stack.extend(reg.children.values())
        for name, obj in reg.module_dict.items():
            mod = getattr(obj, '__module__', '') or ''
            if mod.startswith('mmskelcl.'):
                found.add((name, f'{mod}.{obj.__qualname__}'))
    return found


def test_registered_names_page_lists_every_registered_class():
    """The page used to list only the first ten classes (none of the
    encoders, CSRE, SkeAttnCLR, their hooks and transforms)."""
    import importlib
    text = open(osp.join(REPO, 'docs', 'registered_names.md'),
                encoding='utf-8').read()
    rows = re.findall(r'^\| `(\w+)` \| \[`(\w+)`\]\[([\w.]+)\] \| `([\w.]+)` \|$',
                      text, re.M)
    listed = {}
    for registry, name, anchor, path in rows:
        assert anchor == path
        mod, cls = path.rsplit('.', 1)
        listed[name] = getattr(importlib.import_module(mod), cls)
    expected = _registered_by_walking_children()
    assert len(expected) >= 50
    for name, qual in expected:
        assert name in listed, f'{name} ({qual}) registered but not listed'
        obj = listed[name]
        assert f'{obj.__module__}.{obj.__qualname__}' == qual, name
    assert set(listed) == {n for n, _ in expected}
    for name in ('CSREHead', 'SkeAttnCLR', 'BlockGCN', 'Hyperformer',
                 'InfoGCN', 'HCN', 'AGCN', 'MomentumUpdateHook',
                 'GenStreamFeat', 'ContrastiveViews', 'KNNValLoop'):
        assert name in listed, name
    counted = re.search(r'(\d+) entries in (\d+) registries', text)
    assert int(counted.group(1)) == len(rows)


def _mkdocs_available():
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError as err:
        raise AssertionError(
            f'{err}: the docs tests need requirements/docs.txt '
            '(make install-tests installs it)') from err


def _tiny_site(tmp_path, page_b):
    """A two-page site with the validation settings of the real mkdocs.yml
    (its plugins left out: the API pages are not under test here)."""
    import yaml
    with open(osp.join(REPO, 'mkdocs.yml'), encoding='utf-8') as f:
        cfg = yaml.safe_load(f)
    docs = tmp_path / 'docs'
    docs.mkdir(exist_ok=True)
    (docs / 'index.md').write_text('# Home\n\nSee [B](b.md#part).\n')
    (docs / 'b.md').write_text(page_b)
    cfg.update(docs_dir=str(docs), site_dir=str(tmp_path / 'site'),
               nav=[{'Home': 'index.md'}, {'B': 'b.md'}],
               plugins=['search'],
               hooks=[osp.join(REPO, h) for h in cfg.get('hooks', [])])
    cfg.pop('extra_css', None)
    yml = tmp_path / 'mkdocs.yml'
    yml.write_text(yaml.safe_dump(cfg))
    return subprocess.run(
        [sys.executable, '-m', 'mkdocs', 'build', '--strict', '-f',
         str(yml)], capture_output=True, text=True,
        env={'NO_MKDOCS_2_WARNING': '1', 'PATH': '/usr/bin:/bin'})


@pytest.mark.slow
def test_strict_build_fails_on_a_broken_link_or_anchor(tmp_path):
    """Three builds of about 1.5 s each: the good site builds; the same
    site with a link to a missing page, or to a missing heading, fails and
    names it."""
    _mkdocs_available()
    assert cfg_strict()
    good = _tiny_site(tmp_path, '# B\n\n## Part\n\nBack [home](index.md).\n')
    assert good.returncode == 0, good.stderr
    assert (tmp_path / 'site' / 'b.html').is_file()
    bad = _tiny_site(tmp_path, '# B\n\n## Part\n\nSee [x](missing.md).\n')
    assert bad.returncode != 0
    assert 'missing.md' in bad.stderr and 'strict' in bad.stderr
    anchor = _tiny_site(tmp_path, '# B\n\n## Other\n\nBack [home](index.md).\n')
    assert anchor.returncode != 0
    assert "anchor '#part'" in anchor.stderr


def cfg_strict():
    """mkdocs.yml itself asks for strict mode and warns on every check."""
    import yaml
    with open(osp.join(REPO, 'mkdocs.yml'), encoding='utf-8') as f:
        cfg = yaml.safe_load(f)
    checks = cfg['validation']
    return cfg['strict'] is True and all(
        checks[k] == 'warn' for k in ('not_found', 'anchors',
                                      'omitted_files', 'unrecognized_links'))


def test_make_docs_is_in_ci_and_strict():
    """CI builds the site (after the tests) and the Makefile target checks
    the generated pages before a strict build."""
    ci = open(osp.join(REPO, '.ci', 'run'), encoding='utf-8').read()
    assert ci.index('make test\n') < ci.index('make docs\n')
    make = open(osp.join(REPO, 'Makefile'), encoding='utf-8').read()
    target = make[make.index('\ndocs:'):]
    target = target[:target.index('\n\n')]
    assert 'docs_tables.py --check' in target
    assert 'config_table.py --check' in target
    assert 'mkdocs build --strict' in target
    assert cfg_strict()
    assert 'site/' in open(osp.join(REPO, '.gitignore')).read().split()


def test_lists_after_a_paragraph_render_as_lists():
    """The site's hook gives Python-Markdown the blank line GitHub does not
    need; code fences, tables and lists already separated stay as they are.
    """
    import markdown
    hooks = load_module(osp.join(REPO, 'tools', 'misc', 'mkdocs_hooks.py'),
                        'mkdocs_hooks_under_test')
    src = ('Decisions:\n- one\n  continued\n- two\n\n```\nx:\n- not a '
           'list\n```\nSteps:\n1. first\n2. second\n')
    plain = markdown.markdown(src, extensions=['fenced_code'])
    assert '<ul>' not in plain  # the defect the hook exists for
    html = markdown.markdown(hooks.fix_lists(src), extensions=['fenced_code'])
    assert html.count('<li>') == 4 and '<ol>' in html
    assert '- not a list' in html  # inside the fence, untouched
    assert hooks.fix_lists('a\n\n- b\n') == 'a\n\n- b\n'
