"""mkdocs hook: render the GitHub-flavoured lists of docs/ as GitHub does.

The pages are read on GitHub and in the site. GitHub starts a list right
after a paragraph line; Python-Markdown needs a blank line first and
otherwise prints the items as one paragraph of "- a - b". This hook adds
that blank line (outside code fences) before the build, so the sources stay
as they are. Registered in ``mkdocs.yml`` (``hooks:``).
"""
import re

_ITEM = re.compile(r'^\s{0,3}(?:[-*+]|\d+\.)\s')


def fix_lists(markdown: str) -> str:
    """``markdown`` with a blank line before each list that follows a
    paragraph line directly."""
    out, fence, in_list = [], False, False
    for line in markdown.split('\n'):
        stripped = line.lstrip()
        if stripped.startswith(('```', '~~~')):
            fence = not fence
        if not fence:
            if not line.strip():
                in_list = False
            elif _ITEM.match(line):
                prev = out[-1] if out else ''
                if not in_list and prev.strip() and \
                        not prev.lstrip().startswith(('|', '#')):
                    out.append('')
                in_list = True
        out.append(line)
    return '\n'.join(out)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """mkdocs event: the page's Markdown before it is rendered."""
    return fix_lists(markdown)
