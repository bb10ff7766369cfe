"""Converters from raw skeleton releases to the PySKL / MMAction2 pickle."""
from .nwucla import NWUCLAFormatError, convert_nwucla, summarize

__all__ = ['NWUCLAFormatError', 'convert_nwucla', 'summarize']
