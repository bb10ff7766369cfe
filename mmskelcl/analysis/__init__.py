"""Analysis of trained models: score reports, class hierarchies, t-SNE,
training curves and the evaluation-protocol note.

Optional dependencies are imported where they are used: scikit-learn
(t-SNE, ``pip install "mmskelcl[analysis]"``) and matplotlib (figures; it
comes with mmengine).
"""
from .hierarchy import (ClassHierarchy, is_gym_categories, load_label_map,
                        parse_gym_categories)
from .per_class import class_names_from_meta, format_per_class
from .protocol import describe_protocol, describe_score_meta, val_is_test
from .report import (ConfusedPair, GroupAccuracy, ScoreReport,
                     align_for_comparison, build_report, confused_pairs,
                     confusion_matrix, group_accuracy, load_scores)
from .report_format import format_comparison, format_report, report_to_dict

__all__ = [
    'ClassHierarchy', 'ConfusedPair', 'GroupAccuracy', 'ScoreReport',
    'align_for_comparison', 'build_report', 'class_names_from_meta',
    'confused_pairs', 'confusion_matrix', 'describe_protocol',
    'describe_score_meta', 'format_comparison', 'format_per_class',
    'format_report', 'group_accuracy', 'is_gym_categories', 'load_label_map',
    'load_scores', 'parse_gym_categories', 'report_to_dict', 'val_is_test'
]
