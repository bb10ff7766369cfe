"""Read a config's Python text as data, without running it.

mmengine stores a run's config in every checkpoint (``meta['cfg']``, the
text of ``Config.pretty_text``) and ``tools/test.py`` used to record only a
config's path in its score dumps. Executing either (``Config.fromstring`` /
``Config.fromfile``) runs whatever code the text holds, so tools that only
need a few values (the trained schedule, the stream, the splits) read them
with :func:`read_config_text` instead: the text is parsed with :mod:`ast`
and only top-level assignments of plain data are kept: literals
(:func:`ast.literal_eval`), ``dict(key=...)`` calls and containers of them.
Anything else (names, other calls, attribute access, imports, ``{{...}}``
substitutions, ``_base_`` inheritance) is left out and reported, never
evaluated.
"""
import ast
from typing import Any, Dict, List, Tuple

MAX_TEXT = 4 << 20  # 4 MiB: pretty_text of the largest configs is ~50 KiB


class NotData(ValueError):
    """A piece of config text that is not plain data."""


def _value(node: ast.AST) -> Any:
    """The data an expression node spells; :class:`NotData` otherwise."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args and \
            all(kw.arg is not None for kw in node.keywords):
        return {kw.arg: _value(kw.value) for kw in node.keywords}
    if isinstance(node, ast.Dict) and None not in node.keys:
        out = {}
        for k, v in zip(node.keys, node.values):
            key = _value(k)
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise NotData(k)
            out[key] = _value(v)
        return out
    if isinstance(node, ast.List):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e) for e in node.elts)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError,
            RecursionError) as e:
        raise NotData(node) from e


def _where(text: str, node: ast.AST) -> str:
    """``line N: <source, shortened>`` of a node."""
    source = ast.get_source_segment(text, node) or type(node).__name__
    source = ' '.join(source.split())
    if len(source) > 60:
        source = source[:57] + '...'
    return f'line {node.lineno}: {source}'


def read_config_text(text: str) -> Tuple[Dict[str, Any], List[str]]:
    """The plain-data top-level assignments of a config's Python text.

    Args:
        text (str): Config source (a ``.py`` config file or the
            ``meta['cfg']`` string of an mmengine checkpoint).

    Returns:
        tuple[dict, list[str]]: ``{name: value}`` of every ``name = <data>``
        statement (later assignments win), and ``'line N: <source>'`` of
        each statement that is not such an assignment, or of the first part
        of an assignment's value that is not data (the whole assignment is
        left out); docstrings are skipped. A text that cannot be parsed
        gives ``{}`` and one entry saying why.
    """
    if not isinstance(text, str):
        return {}, [f'not a config text but {type(text).__name__}']
    if len(text) > MAX_TEXT:
        return {}, [f'config text of {len(text)} characters is over the '
                    f'limit of {MAX_TEXT}']
    try:
        tree = ast.parse(text, mode='exec')
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        return {}, [f'not Python ({type(e).__name__}: {e})']
    values, not_data = {}, []
    for stmt in tree.body:
        value = getattr(stmt, 'value', None)
        if isinstance(stmt, ast.Expr) and isinstance(value, ast.Constant) \
                and isinstance(value.value, str):
            continue  # a docstring
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            not_data.append(_where(text, stmt))
            continue
        try:
            values[stmt.targets[0].id] = _value(stmt.value)
        except NotData as e:
            not_data.append(_where(text, e.args[0]))
        except RecursionError:
            not_data.append(_where(text, stmt) + ' (nested too deeply)')
    return values, not_data
