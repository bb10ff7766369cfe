"""Definitions shared by models and datasets (neither imports the other):
skeleton layouts, their graphs and bone pairs."""
from . import layouts

__all__ = ['layouts']
