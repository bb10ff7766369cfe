"""Converters from raw skeleton releases to the PySKL / MMAction2 pickle."""
from .gym import GymFormatError, convert_gym
from .npz import NPZFormatError, convert_npz
from .ntu import convert_ntu
from .ntu_skeleton import NTUFormatError
from .nwucla import NWUCLAFormatError, convert_nwucla, summarize

__all__ = [
    'GymFormatError', 'convert_gym', 'NPZFormatError', 'convert_npz',
    'convert_ntu', 'NTUFormatError', 'NWUCLAFormatError', 'convert_nwucla',
    'summarize'
]
