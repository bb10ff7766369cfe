from . import (backbones, heads, layers, losses, memory,  # noqa: F401
               necks, recognizers, selfsup, utils)
