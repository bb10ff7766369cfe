"""High-level entry points (testing and fusing streams)."""
from .test_streams import (build_stream_cfg, default_stream_names,
                           ensure_frame_dir, evaluate_stream, evaluate_streams)

__all__ = [
    'build_stream_cfg', 'default_stream_names', 'ensure_frame_dir',
    'evaluate_stream', 'evaluate_streams'
]
