"""Skeleton layouts, annotation checks, dataset and transforms."""
from . import layouts, transforms, validation
from .repeat_dataset import IndexedRepeatDataset
from .skeleton_dataset import SkeletonDataset
from .transforms import (CenterJoint, CropResizeFrames, GenStreamFeat,
                         MinMaxNormalize, RandomBoneScale, RandomRotation,
                         RandomSortedSampleFrames, RandomViewTransform)
from .validation import (AnnotationError, AnnotationProblem,
                         assert_valid_annotations, check_annotations)

__all__ = [
    'layouts', 'transforms', 'validation', 'SkeletonDataset',
    'IndexedRepeatDataset',
    'AnnotationError', 'AnnotationProblem', 'check_annotations',
    'assert_valid_annotations', 'CenterJoint', 'CropResizeFrames',
    'GenStreamFeat', 'MinMaxNormalize', 'RandomBoneScale', 'RandomRotation',
    'RandomSortedSampleFrames', 'RandomViewTransform'
]
