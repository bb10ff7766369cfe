from .memory_bank_hook import MemoryBankHook, original_dataset_length
from .run_check_hooks import ClassCountHook, StreamMetaHook, label_range

__all__ = [
    'ClassCountHook', 'MemoryBankHook', 'StreamMetaHook', 'label_range',
    'original_dataset_length'
]
