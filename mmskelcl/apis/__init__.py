"""High-level entry points: testing and fusing streams, inference, export."""
from .clips import (SkeletonPrediction, load_skeleton_samples,
                    skeleton_to_sample)
from .inference import (build_test_pipeline, class_names_of,
                        classify_skeleton, inference_model_cfg,
                        init_recognizer)
from .test_streams import (build_stream_cfg, default_stream_names,
                           ensure_frame_dir, evaluate_stream, evaluate_streams)

__all__ = [
    'SkeletonPrediction', 'build_stream_cfg', 'build_test_pipeline',
    'class_names_of', 'classify_skeleton', 'default_stream_names',
    'ensure_frame_dir', 'evaluate_stream', 'evaluate_streams',
    'inference_model_cfg', 'init_recognizer', 'load_skeleton_samples',
    'skeleton_to_sample'
]
