from .memory_bank_hook import MemoryBankHook, original_dataset_length

__all__ = ['MemoryBankHook', 'original_dataset_length']
