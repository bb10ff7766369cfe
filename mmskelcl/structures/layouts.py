"""Skeleton layouts: joint graphs and bone pairs.

MMAction2's :class:`~mmaction.models.utils.Graph` knows ``coco``,
``nturgb+d`` and ``openpose`` and accepts a dict layout. This module adds
NW-UCLA (Kinect v1, 20 joints) and gives every layout one place for its
bone pairs, so the graph and the bone stream agree.

Joint indices are 0-based. A bone pair ``(v, p)`` means
``bone[v] = joint[v] - joint[p]``; a root has ``p == v`` (zero bone).
"""
from typing import Dict, List, Optional, Tuple, Union

# NW-UCLA, Kinect v1 order: 0 hip centre, 1 spine, 2 shoulder centre, 3 head,
# 4-7 left shoulder/elbow/wrist/hand, 8-11 right shoulder/elbow/wrist/hand,
# 12-15 left hip/knee/ankle/foot, 16-19 right hip/knee/ankle/foot.
# Edges as in the CTR-GCN family's ``graph/ucla.py`` (1-based there).
_NWUCLA_INWARD_1B = ((1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7),
                     (9, 3), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13),
                     (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                     (20, 19))

NWUCLA_LAYOUT = dict(
    num_node=20,
    inward=[(i - 1, j - 1) for i, j in _NWUCLA_INWARD_1B],
    center=2)

# Bone pairs. NTU and COCO are MMAction2's ``JointToBone`` pairs (kept
# identical so bone streams match MMAction2/PySKL); NW-UCLA follows the
# CTR-GCN family's ``ucla_pairs`` (root: shoulder centre).
BONE_PAIRS: Dict[str, Tuple[Tuple[int, int], ...]] = {
    'nturgb+d': ((0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5),
                 (7, 6), (8, 20), (9, 8), (10, 9), (11, 10), (12, 0),
                 (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17),
                 (19, 18), (21, 22), (20, 20), (22, 7), (23, 24), (24, 11)),
    'coco': ((0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5),
             (8, 6), (9, 7), (10, 8), (11, 0), (12, 0), (13, 11), (14, 12),
             (15, 13), (16, 14)),
    'openpose': ((0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5),
                 (7, 6), (8, 2), (9, 8), (10, 9), (11, 5), (12, 11),
                 (13, 12), (14, 0), (15, 0), (16, 14), (17, 15)),
    'nwucla': ((0, 1), (1, 2), (2, 2), (3, 2), (4, 2), (5, 4), (6, 5),
               (7, 6), (8, 2), (9, 8), (10, 9), (11, 10), (12, 0), (13, 12),
               (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18)),
}

# Layouts MMAction2's Graph does not know, by name.
# NTU RGB+D as the 2s-AGCN code base draws it (``graph/ntu_rgb_d.py``, reused
# by CTR-GCN, InfoGCN, FR-Head, ...): hand tip -> thumb -> hand (22 -> 23 -> 8
# and 24 -> 25 -> 12, 1-based), where MMAction2's ``nturgb+d`` joins both the
# tip and the thumb to the hand. Encoders with a fixed adjacency (2s-AGCN)
# need it for released checkpoints to give the released logits.
_NTU_AGCN_INWARD_1B = ((1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5),
                       (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
                       (13, 1), (14, 13), (15, 14), (16, 15), (17, 1),
                       (18, 17), (19, 18), (20, 19), (22, 23), (23, 8),
                       (24, 25), (25, 12))
NTU_AGCN_LAYOUT = dict(
    num_node=25,
    inward=[(i - 1, j - 1) for i, j in _NTU_AGCN_INWARD_1B],
    center=20)

EXTRA_LAYOUTS: Dict[str, dict] = {
    'nwucla': NWUCLA_LAYOUT,
    'nturgb+d_agcn': NTU_AGCN_LAYOUT
}

NUM_JOINTS = {'nturgb+d': 25, 'coco': 17, 'openpose': 18, 'nwucla': 20}

# Layouts whose keypoints come with a score channel (2D pose estimators).
SCORED_LAYOUTS = ('coco', 'openpose')


def resolve_layout(layout: Union[str, dict]) -> Union[str, dict]:
    """Map a layout name to what MMAction2's ``Graph`` accepts.

    Names known to MMAction2 pass through; names registered here become
    their dict; dicts pass through.
    """
    if isinstance(layout, str) and layout in EXTRA_LAYOUTS:
        return dict(EXTRA_LAYOUTS[layout])
    return layout


def bone_pairs(layout: str) -> Tuple[Tuple[int, int], ...]:
    """Bone pairs of a named layout, with a clear error for unknown ones."""
    if layout not in BONE_PAIRS:
        raise ValueError(f'Unknown skeleton layout {layout!r}; known: '
                         f'{sorted(BONE_PAIRS)}')
    return BONE_PAIRS[layout]


def build_graph(graph_cfg: dict):
    """Build MMAction2's ``Graph`` from a config whose layout may be a name
    registered here (e.g. ``'nwucla'``)."""
    from mmaction.models.utils import Graph
    cfg = dict(graph_cfg)
    cfg['layout'] = resolve_layout(cfg.get('layout', 'coco'))
    return Graph(**cfg)


# ---------------------------------------------------------------------------
# Rooted bone trees and left/right symmetric bones (bone-length augmentation).
#
# The undirected edges of ``BONE_PAIRS`` (self pairs dropped) form a tree for
# every layout above. Rooting it at ``SKELETON_ROOTS[layout]`` gives each
# non-root joint exactly one parent, so a bone is named by its *child* joint.
# For NTU the root is the spine base (joint 0), the root FR-Head's
# ``ntu_dir_pairs`` use; the same choice (pelvis / hip centre, or the nose
# for the COCO/OpenPose star around it) is made for the other layouts.
SKELETON_ROOTS: Dict[str, int] = {
    'nturgb+d': 0,
    'coco': 0,
    'openpose': 0,
    'nwucla': 0,
}

# Pairs of symmetric (left, right) bones, each bone named by its child joint
# in the tree rooted at ``SKELETON_ROOTS``. NTU is FR-Head's
# ``ntu_sym_pairs`` (given there as bone indices of ``ntu_dir_pairs``)
# translated to child joints.
SYMMETRIC_BONES: Dict[str, Tuple[Tuple[int, int], ...]] = {
    # shoulder, upper arm, forearm, hand, thumb, hand tip; hip, thigh,
    # shank, foot.
    'nturgb+d': ((4, 8), (5, 9), (6, 10), (7, 11), (22, 24), (21, 23),
                 (12, 16), (13, 17), (14, 18), (15, 19)),
    # eye, ear, shoulder, upper arm, forearm, hip, thigh, shank.
    'coco': ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14),
             (15, 16)),
    # shoulder, upper arm, forearm, hip, thigh, shank, eye, ear.
    'openpose': ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13),
                 (14, 15), (16, 17)),
    # shoulder, upper arm, forearm, hand; hip, thigh, shank, foot.
    'nwucla': ((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17),
               (14, 18), (15, 19)),
}


def bone_tree(layout: str,
              root: Optional[int] = None) -> Tuple[Tuple[int, int], ...]:
    """``(child, parent)`` bones of a layout's tree, parents before children.

    Args:
        layout (str): A layout name in ``BONE_PAIRS``.
        root (int, optional): Root joint. Defaults to
            ``SKELETON_ROOTS[layout]``.

    Returns:
        tuple[tuple[int, int]]: ``V - 1`` bones in breadth-first order from
        the root, so rebuilding joints in this order only uses parents that
        are already rebuilt.

    Raises:
        ValueError: If the layout is unknown or its bones are not a tree
            spanning every joint.
    """
    pairs = bone_pairs(layout)
    num_joints = NUM_JOINTS[layout]
    root = SKELETON_ROOTS[layout] if root is None else root
    neighbours: Dict[int, List[int]] = {v: [] for v in range(num_joints)}
    for v, p in pairs:
        if v != p:
            neighbours[v].append(p)
            neighbours[p].append(v)
    order, seen, queue = [], {root}, [root]
    while queue:
        parent = queue.pop(0)
        for child in sorted(neighbours[parent]):
            if child not in seen:
                seen.add(child)
                order.append((child, parent))
                queue.append(child)
    if len(seen) != num_joints or len(order) != num_joints - 1:
        raise ValueError(f'The bones of layout {layout!r} are not a tree '
                         f'spanning its {num_joints} joints')
    return tuple(order)
