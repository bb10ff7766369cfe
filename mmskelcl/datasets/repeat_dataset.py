"""A ``RepeatDataset`` whose repeated copies keep distinct sample indices."""
from typing import Any, Dict, Union

from mmengine.dataset import BaseDataset, RepeatDataset

from mmaction.registry import DATASETS


@DATASETS.register_module()
class IndexedRepeatDataset(RepeatDataset):
    """Repeat a dataset ``times`` times; copy ``c`` of sample ``i`` carries
    ``sample_idx = c * len(dataset) + i``.

    mmengine's :class:`~mmengine.dataset.RepeatDataset` hands every copy the
    index of the wrapped dataset (the repeated index modulo its length), so
    an index memory bank gets one slot per *sample*. The SkeletonGCL/CACL
    NW-UCLA feeder returns the *repeated* index instead (``__len__`` is
    ``len(data) * repeat`` and ``label_all = label * repeat``), so the
    released bank has one slot per *copy*: 5 x 1,020 = 5,100 slots with
    ``repeat: 5``, each refreshed once per epoch. This wrapper reproduces
    that; ``index_per_copy=False`` behaves exactly as ``RepeatDataset``.
    :class:`~mmskelcl.engine.MemoryBankHook` sizes index banks to
    ``len(self)`` when ``index_per_copy`` is set, to the wrapped length
    otherwise.

    Samples are read from the wrapped dataset as ``RepeatDataset`` does
    (same pipeline, same refetch on failure); only ``sample_idx`` of the
    packed data sample (or of the result dict, for a pipeline that does
    not pack) is shifted by ``copy * len(dataset)``. A refetched sample
    keeps its own index within the same copy.

    Args:
        dataset (BaseDataset | dict): The dataset to repeat.
        times (int): Number of copies per epoch.
        index_per_copy (bool): Give each copy its own ``sample_idx``
            (released NW-UCLA bank). Defaults to True.
        lazy_init (bool): Defer loading the annotations. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 times: int,
                 index_per_copy: bool = True,
                 lazy_init: bool = False) -> None:
        self.index_per_copy = index_per_copy
        super().__init__(dataset, times=times, lazy_init=lazy_init)

    def get_data_info(self, idx: int) -> dict:
        """Annotation of repeated index ``idx`` (``sample_idx`` per copy
        when ``index_per_copy``)."""
        info = super().get_data_info(idx)
        if self.index_per_copy:
            info['sample_idx'] = self._copy_offset(idx) + info['sample_idx']
        return info

    def __getitem__(self, idx: int) -> Any:
        data = super().__getitem__(idx)
        if self.index_per_copy:
            self._shift_sample_idx(data, self._copy_offset(idx))
        return data

    def _copy_offset(self, idx: int) -> int:
        """``copy * len(dataset)`` for repeated index ``idx``."""
        return (idx // self._ori_len) * self._ori_len

    @staticmethod
    def _shift_sample_idx(data: Dict, offset: int) -> None:
        """Add ``offset`` to the ``sample_idx`` the pipeline kept."""
        if not isinstance(data, dict):
            return
        samples = data.get('data_samples')
        if samples is not None and 'sample_idx' in samples.metainfo_keys():
            samples.set_metainfo(
                dict(sample_idx=int(samples.sample_idx) + offset))
        elif 'sample_idx' in data:
            data['sample_idx'] = int(data['sample_idx']) + offset
