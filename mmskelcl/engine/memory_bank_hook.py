"""Size memory banks to the training set before a run starts."""
from mmaction.registry import HOOKS
from mmengine.model import is_model_wrapper

from ..models.memory import MemoryBank
from .run_check_hooks import BankContrastCheckHook


def original_dataset_length(dataset) -> int:
    """Length of a dataset with repeat wrappers removed (``sample_idx`` is
    taken modulo it under mmengine's ``RepeatDataset``)."""
    while hasattr(dataset, 'times') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return len(dataset)


def num_sample_indices(dataset) -> int:
    """How many distinct ``sample_idx`` values the training set hands out.

    Walks down repeat wrappers: a wrapper with ``index_per_copy`` set
    (:class:`~mmskelcl.datasets.IndexedRepeatDataset`, the released
    NW-UCLA bank) gives each copy its own index, so its whole length
    counts; a plain ``RepeatDataset`` (or ``index_per_copy=False``) takes
    indices modulo the wrapped dataset, so the walk continues inside it.
    """
    while True:
        if getattr(dataset, 'index_per_copy', False):
            return len(dataset)
        if hasattr(dataset, 'times') and hasattr(dataset, 'dataset'):
            dataset = dataset.dataset
            continue
        return len(dataset)


@HOOKS.register_module()
class MemoryBankHook(BankContrastCheckHook):
    """Give every unsized :class:`MemoryBank` of the model one slot per
    training ``sample_idx`` (``'index'`` mode) or ``fifo_size`` slots
    (``'fifo'``, default: also that count) when training starts. Under
    ``RepeatDataset`` that is one slot per sample; under
    ``IndexedRepeatDataset`` (NW-UCLA CACL/SkeletonGCL default) one slot per
    repeated copy, as the released bank (see :func:`num_sample_indices`).
    A bank restored by ``--resume`` or ``load_from`` already has the
    checkpoint's size and contents and is left alone; testing never needs
    the bank.

    As every config with a bank contrast lists this hook, it also does
    :class:`~mmskelcl.engine.BankContrastCheckHook`'s check: anchor use
    logged per epoch, the run stopped (or, ``on_starved='warn'``, warned)
    when a unit used no anchor in a whole epoch.

    Args:
        fifo_size (int, optional): FIFO bank size when the bank config
            gives none.
        on_starved (str): ``'raise'`` or ``'warn'``, see
            :class:`~mmskelcl.engine.BankContrastCheckHook`.
    """

    priority = 'VERY_HIGH'

    def __init__(self, fifo_size: int = None,
                 on_starved: str = 'raise') -> None:
        super().__init__(on_starved=on_starved)
        self.fifo_size = fifo_size

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        banks = [m for m in model.modules() if isinstance(m, MemoryBank)]
        if not banks or all(b.size for b in banks):
            return
        n = num_sample_indices(runner.train_dataloader.dataset)
        for bank in banks:
            if bank.size == 0:
                size = n if bank.mode == 'index' else (self.fifo_size or n)
                bank.resize(size)
                runner.logger.info(f'MemoryBank sized to {size} slots '
                                   f'({bank.mode} mode, {n} sample indices)')
