"""Skeleton transforms, registered in ``mmaction.registry.TRANSFORMS``."""
from .augment import RandomBoneScale, RandomRotation, RandomViewTransform
from .contrastive import (AlignShoulders, CenterJointPerFrame,
                          ContrastiveViews, RandomShear, TemporalMirrorCrop)
from .features import GenStreamFeat, LayoutJointToBone, LayoutToMotion
from .normalize import AlignSkeleton, CenterJoint, MinMaxNormalize
from .temporal import CropResizeFrames, RandomSortedSampleFrames

__all__ = [
    'RandomRotation', 'RandomBoneScale', 'RandomViewTransform',
    'CenterJoint', 'MinMaxNormalize', 'AlignSkeleton', 'CropResizeFrames',
    'RandomSortedSampleFrames', 'GenStreamFeat', 'LayoutJointToBone',
    'LayoutToMotion', 'AlignShoulders', 'CenterJointPerFrame',
    'ContrastiveViews', 'RandomShear', 'TemporalMirrorCrop'
]
