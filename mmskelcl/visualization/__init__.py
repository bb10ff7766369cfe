"""Skeleton rendering: clips to frames / GIF / MP4 with labels and the
model's per-joint and per-frame weights (``SkeletonVisualizer`` in
MMAction2's ``VISUALIZERS`` registry)."""
from .draw import bones_of, layout_of, project, tile, view_matrix
from .hook import SkeletonVisualizationHook
from .skeleton_visualizer import SkeletonVisualizer, label_lines
from .video import read_video, write_video

__all__ = [
    'SkeletonVisualizationHook', 'SkeletonVisualizer', 'bones_of',
    'label_lines', 'layout_of', 'project', 'read_video', 'tile',
    'view_matrix', 'write_video'
]
