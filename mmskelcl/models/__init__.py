from . import backbones, heads, recognizers, utils  # noqa: F401
