from .base_aux_head import BaseAuxHead

__all__ = ['BaseAuxHead']
