from . import (backbones, heads, losses, memory, recognizers,  # noqa: F401
               utils)
