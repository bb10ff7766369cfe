"""Joint / bone / motion streams for every layout in ``layouts.BONE_PAIRS``.

MMAction2's ``JointToBone``, ``ToMotion`` and ``GenSkeFeat`` only know
``nturgb+d``, ``openpose`` and ``coco``. The subclasses here take the bone
pairs from :mod:`mmskelcl.structures.layouts` (identical to MMAction2's for
its three layouts, plus ``nwucla``) and reuse MMAction2's arithmetic, so
streams match MMAction2 where both apply. For scored layouts
(``layouts.SCORED_LAYOUTS``) the score channel is averaged, not
differenced, like MMAction2.

``GenStreamFeat(frame_center=True)`` adds Hyperformer's per-frame centring
(``ZhouYuxuanYX/Hyperformer`` ``feeders/feeder_ntu.py`` and
``feeder_ucla.py``), with the centre joint taken from the layout's graph.
"""
from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import KeyMapper
from mmengine.dataset import Compose

from mmaction.datasets.transforms import (GenSkeFeat, JointToBone,
                                          MergeSkeFeat, ToMotion)
from mmaction.registry import TRANSFORMS
from ...structures.layouts import SCORED_LAYOUTS, bone_pairs, build_graph

STREAMS = ('j', 'b', 'jm', 'bm')


def has_score(data: np.ndarray, layout: str) -> bool:
    """Whether the last channel of ``data`` is a keypoint score (x, y,
    score of a 2D scored layout) rather than a coordinate."""
    return data.shape[-1] == 3 and layout in SCORED_LAYOUTS


class LayoutJointToBone(JointToBone):
    """``JointToBone`` with the pairs of any layout in ``BONE_PAIRS``.

    Not registered (MMAction2's name is taken); :class:`GenStreamFeat`
    builds it.

    Args:
        layout (str): Layout name. Defaults to ``'nturgb+d'``.
        target (str): Key of the result. Defaults to ``'keypoint'``.
    """

    def __init__(self, layout: str = 'nturgb+d',
                 target: str = 'keypoint') -> None:
        self.dataset = layout
        self.target = target
        self.pairs = bone_pairs(layout)

    def transform(self, results: Dict) -> Dict:
        """Bones ``kp[v] - kp[parent]``; a score channel is averaged."""
        keypoint = results['keypoint']
        results = super().transform(results)
        if has_score(keypoint, self.dataset):
            child, parent = np.array(self.pairs).T
            bone = results[self.target]
            bone[..., child, 2] = (keypoint[..., child, 2] +
                                   keypoint[..., parent, 2]) / 2
        return results


class LayoutToMotion(ToMotion):
    """``ToMotion`` that averages the score channel of every scored layout.

    Args:
        layout (str): Layout name. Defaults to ``'nturgb+d'``.
        source (str): Key to differentiate. Defaults to ``'keypoint'``.
        target (str): Key of the result. Defaults to ``'motion'``.
    """

    def __init__(self, layout: str = 'nturgb+d', source: str = 'keypoint',
                 target: str = 'motion') -> None:
        super().__init__(dataset=layout, source=source, target=target)

    def transform(self, results: Dict) -> Dict:
        """``x[t + 1] - x[t]``, last frame zero; a score is averaged."""
        data = results[self.source]
        results = super().transform(results)
        if has_score(data, self.dataset):
            results[self.target][:, :-1, :, 2] = (data[:, :-1, :, 2] +
                                                  data[:, 1:, :, 2]) / 2
        return results


@TRANSFORMS.register_module()
class GenStreamFeat(GenSkeFeat):
    """MMAction2's ``GenSkeFeat`` for every layout of ``BONE_PAIRS``.

    ``feats`` picks and concatenates (on ``axis``) the streams ``'j'``
    (joints), ``'b'`` (bones), ``'jm'`` (joint motion) and ``'bm'`` (bone
    motion). For 2D layouts a ``keypoint_score`` is first appended as a
    channel (x, y, score) and averaged for bones and motion.

    With ``frame_center=True`` (Hyperformer's released feeders), before
    the motion conversion:

    * ``j``: every frame of every person is translated so that the
      layout's centre joint ``c`` is the origin, and joint ``c`` then holds
      its own original position (its trajectory) instead of zero:
      ``j[m, t, v] = x[m, t, v] - x[m, t, c]`` for ``v != c`` and
      ``j[m, t, c] = x[m, t, c]``;
    * ``b``: the centre joint's zero self-bone is replaced by its position,
      ``b[m, t, c] = x[m, t, c]`` (other bones are translation-invariant);
    * ``jm`` / ``bm`` are the motions of these ``j`` / ``b``.

    Only the coordinate channels are moved, never a score channel;
    all-zero padding stays zero.

    Required Keys:

        - keypoint (M, T, V, C)
        - keypoint_score (optional, scored layouts only)

    Modified Keys:

        - keypoint (M, T, V, C * len(feats))

    Removed Keys:

        - keypoint_score (merged into keypoint)

    Unlike MMAction2's ``GenSkeFeat`` the intermediate ``j``/``b`` keys
    are not left in the results.

    Args:
        layout (str): Layout name in ``layouts.BONE_PAIRS``.
        feats (Sequence[str]): Streams to output, in order. Defaults to
            ``('j', )``.
        axis (int): Concatenation axis. Defaults to -1.
        frame_center (bool): Hyperformer's per-frame centring on the
            layout graph's ``center`` joint (NTU joint 21, index 20;
            NW-UCLA joint 3, index 2). The centre's bone must be a self
            pair (a root) so that no bone is lost. Defaults to False.
    """

    def __init__(self, layout: str, feats: Sequence[str] = ('j', ),
                 axis: int = -1, frame_center: bool = False) -> None:
        pairs = bone_pairs(layout)  # clear error for unknown layouts
        feats = [feats] if isinstance(feats, str) else list(feats)
        unknown = [f for f in feats if f not in STREAMS]
        if not feats or unknown:
            raise ValueError(f'feats must be a non-empty sequence of '
                             f'{STREAMS}, got {feats}')
        self.dataset = self.layout = layout
        self.feats = feats
        self.axis = axis
        self.frame_center = frame_center
        self.center = None
        if frame_center:
            self.center = build_graph(dict(layout=layout)).center
            if (self.center, self.center) not in pairs:
                raise ValueError(
                    f'frame_center: the centre joint {self.center} of '
                    f'layout {layout!r} has a bone to another joint, which '
                    'its trajectory would overwrite; use frame_center=False '
                    'for this layout')
        ops = []
        if 'b' in feats or 'bm' in feats:
            ops.append(LayoutJointToBone(layout=layout, target='b'))
            if frame_center:
                ops.append(self._bone_trajectory)
        if frame_center:
            ops.append(self._center_frames)
        ops.append(KeyMapper(remapping={'keypoint': 'j'}))
        if 'jm' in feats:
            ops.append(LayoutToMotion(layout=layout, source='j', target='jm'))
        if 'bm' in feats:
            ops.append(LayoutToMotion(layout=layout, source='b', target='bm'))
        ops.append(MergeSkeFeat(feat_list=feats, axis=axis))
        self.ops = Compose(ops)

    def _coords(self, keypoint: np.ndarray) -> int:
        """Number of coordinate channels (a trailing score excluded)."""
        return 2 if has_score(keypoint, self.layout) else keypoint.shape[-1]

    def _bone_trajectory(self, results: Dict) -> Dict:
        """``b[..., c, :] = keypoint[..., c, :]`` (coordinates only)."""
        kp, c = results['keypoint'], self.center
        d = self._coords(kp)
        results['b'][..., c, :d] = kp[..., c, :d]
        return results

    def _center_frames(self, results: Dict) -> Dict:
        """Per-frame centring of ``keypoint`` on joint ``c``, which keeps
        its own trajectory."""
        kp, c = results['keypoint'], self.center
        d = self._coords(kp)
        out = kp.copy()
        out[..., :d] -= kp[..., c:c + 1, :d]
        out[..., c, :d] = kp[..., c, :d]
        results['keypoint'] = out
        return results

    def transform(self, results: Dict) -> Dict:
        """Build the streams of ``results['keypoint']``."""
        if 'keypoint_score' in results and \
                self.layout not in SCORED_LAYOUTS:
            raise ValueError(
                f'{type(self).__name__}: layout {self.layout!r} has no '
                f'score channel but the sample has keypoint_score; scored '
                f'layouts: {SCORED_LAYOUTS}')
        results = super().transform(results)
        # MMAction2 leaves the unused intermediate streams behind
        for key in ('j', 'b'):
            if key not in self.feats:
                results.pop(key, None)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(layout={self.layout!r}, '
                f'feats={self.feats}, axis={self.axis}, '
                f'frame_center={self.frame_center})')
