from .taps import TapMixin, supports_taps

__all__ = ['TapMixin', 'supports_taps']
