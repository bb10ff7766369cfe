"""Alias of :mod:`mmskelcl.structures.layouts` (layouts moved there so that
models do not import datasets); kept for existing imports."""
from ..structures.layouts import *  # noqa: F401,F403
from ..structures.layouts import (BONE_PAIRS, NUM_JOINTS,  # noqa: F401
                                  NWUCLA_LAYOUT, SCORED_LAYOUTS,
                                  SYMMETRIC_BONES, bone_pairs, bone_tree,
                                  build_graph, resolve_layout)
