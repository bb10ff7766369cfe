from .amp import BF16AmpOptimWrapper
from .compile_hook import CompileBackboneHook, compile_backbone
from .epoch_seed_hook import EpochSeedHook
from .knn_eval import KNNMetric, KNNValLoop, weighted_knn
from .memory_bank_hook import MemoryBankHook, original_dataset_length
from .momentum_update_hook import MomentumUpdateHook, momentum_at
from .run_check_hooks import ClassCountHook, StreamMetaHook, label_range
from .train_loss_metric_hook import TrainLossMetricHook

__all__ = [
    'BF16AmpOptimWrapper', 'ClassCountHook', 'CompileBackboneHook',
    'compile_backbone', 'EpochSeedHook', 'KNNMetric', 'KNNValLoop',
    'MemoryBankHook',
    'MomentumUpdateHook', 'StreamMetaHook', 'label_range', 'momentum_at',
    'original_dataset_length', 'TrainLossMetricHook', 'weighted_knn'
]
