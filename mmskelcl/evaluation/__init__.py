"""Evaluation utilities: multi-stream score fusion and reports."""
from .fusion import (FUSION_FORMAT, PRESET_STREAM_ORDER, WEIGHT_PRESETS,
                     FusionResult, StreamScores, align_streams,
                     compute_accuracy, dump_results_to_scores, format_report,
                     fuse_score_files, fuse_streams, fusion_to_dict,
                     load_score_file, parse_scores, resolve_weights,
                     save_fusion, weighted_sum)

__all__ = [
    'FUSION_FORMAT', 'PRESET_STREAM_ORDER', 'WEIGHT_PRESETS', 'FusionResult',
    'StreamScores', 'align_streams', 'compute_accuracy',
    'dump_results_to_scores', 'format_report', 'fuse_score_files',
    'fuse_streams', 'fusion_to_dict', 'load_score_file', 'parse_scores',
    'resolve_weights', 'save_fusion', 'weighted_sum'
]
