"""Command-line helpers shared by the tools."""
import argparse


class DefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the description's layout; append ``(default: X)`` to the help
    of options whose default is set (not None / False) and not described
    in the help text already."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ''
        unset = any(action.default is v
                    for v in (None, False, argparse.SUPPRESS))  # 0 is set
        if not unset and '(default' not in text:
            text += ' (default: %(default)s)'
        return text
