"""Fixes for defects of the pinned stack, applied once on import.

Each fix lives in its own module, says which upstream defect it addresses
and is a no-op where the defect is absent.
"""
from .amp_head import apply_amp_head_fix
from .checkpoint import apply_checkpoint_fix, load_checkpoint_file
from .drn import apply_drn_fix
from .weight_init import apply_weight_init_fix


def apply_all() -> None:
    """Apply every stack fix (idempotent)."""
    apply_drn_fix()
    apply_checkpoint_fix()
    apply_weight_init_fix()
    apply_amp_head_fix()


__all__ = ['apply_all', 'apply_drn_fix', 'apply_checkpoint_fix',
           'apply_weight_init_fix', 'apply_amp_head_fix',
           'load_checkpoint_file']
