"""A validating drop-in for MMAction2's ``PoseDataset``."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmaction.datasets import PoseDataset
from mmaction.registry import DATASETS
from mmskelcl.utils.safe_pickle import safe_load
from .class_names import class_names
from .validation import assert_valid_annotations, select_split

PICKLE_SUFFIXES = ('.pkl', '.pickle')
STREAM_TRANSFORMS = ('GenStreamFeat', 'mmaction.GenStreamFeat')
FORMAT_TRANSFORMS = ('FormatGCNInput', 'mmaction.FormatGCNInput')
PERSON_PADS = ('zero', 'loop')


def _fill_unset(pipeline: List[Union[Dict, Callable]], types, key: str,
                value) -> Tuple[List, int]:
    """Copy of ``pipeline`` with ``key=value`` set on the dict steps of
    ``types`` that leave ``key`` unset, and how many were filled."""
    out, filled = [], 0
    for step in pipeline:
        if (isinstance(step, dict) and step.get('type') in types
                and step.get(key) is None):
            step = dict(step, **{key: value})
            filled += 1
        out.append(step)
    return out, filled


def apply_stream(pipeline: List[Union[Dict, Callable]],
                 stream: Union[str, Sequence[str]]) -> List:
    """Copy of ``pipeline`` whose unset ``GenStreamFeat.feats`` is
    ``stream``.

    Raises:
        ValueError: If no ``GenStreamFeat`` without ``feats`` is present.
    """
    feats = (stream, ) if isinstance(stream, str) else tuple(stream)
    out, filled = _fill_unset(pipeline, STREAM_TRANSFORMS, 'feats', feats)
    if not filled:
        raise ValueError(
            f'stream={stream!r} was given but the pipeline has no '
            "GenStreamFeat without `feats` to apply it to: add "
            "dict(type='GenStreamFeat', layout=...) to the pipeline.")
    return out


def apply_person_pad(pipeline: List[Union[Dict, Callable]],
                     person_pad: str) -> List:
    """Copy of ``pipeline`` whose ``FormatGCNInput`` steps without
    ``mode`` pad missing persons with ``person_pad``.

    ``'loop'`` copies the one person of a one-person clip into the other
    slots (MMAction2's ``FormatGCNInput(mode='loop')``, as the released
    NTU120 preprocessing of CTR-GCN, FR-Head, BlockGCN, Hyperformer and
    InfoGCN does); ``'zero'`` pads zeros (MMAction2's default).

    Raises:
        ValueError: For an unknown mode, or a pipeline with no
            ``FormatGCNInput`` without ``mode``.
    """
    if person_pad not in PERSON_PADS:
        raise ValueError(f'person_pad={person_pad!r}: expected one of '
                         f'{PERSON_PADS}')
    out, filled = _fill_unset(pipeline, FORMAT_TRANSFORMS, 'mode',
                              person_pad)
    if not filled:
        raise ValueError(
            f'person_pad={person_pad!r} was given but the pipeline has no '
            'FormatGCNInput without `mode` to apply it to: set `mode` in '
            'the FormatGCNInput step instead.')
    return out


@DATASETS.register_module()
class SkeletonDataset(PoseDataset):
    """Skeleton dataset that checks its annotation file before use.

    Behaves as :class:`mmaction.datasets.PoseDataset` (same file schema,
    ``split``, ``data_prefix``, ``valid_ratio``/``box_thr``), but:

    * a missing ``ann_file`` raises :class:`FileNotFoundError` naming the
      path, followed by ``missing_hint`` (how to obtain or convert it);
    * with ``validate=True`` the file is checked by
      :func:`~mmskelcl.datasets.validation.check_annotations` and every
      problem is reported at once in an
      :class:`~mmskelcl.datasets.validation.AnnotationError`;
    * an unknown split raises ``AnnotationError`` listing the available
      names instead of a bare ``KeyError``;
    * the loaded objects are never modified in place (``data_prefix``
      joins work on copies), and the file is only read.

    Every sample carries ``sample_idx`` (set by mmengine's
    ``BaseDataset.get_data_info``; under ``RepeatDataset`` it is the index
    in this dataset, i.e. the repeated index modulo ``len(self)``). Keep it
    in the data sample with
    ``dict(type='PackActionInputs',
    meta_keys=('frame_dir', 'sample_idx', 'total_frames'))``.

    Args:
        ann_file (str): Path to the annotation pickle.
        pipeline (list[dict | callable]): Data transforms.
        split (str, optional): Split name in the file's ``split`` dict.
            Defaults to None (all annotations).
        num_classes (int, optional): Number of classes; labels are checked
            to lie in ``[0, num_classes)``. Defaults to None.
        validate (bool): Check the file. Defaults to True.
        missing_hint (str, optional): Appended to the error raised when
            ``ann_file`` does not exist. Defaults to None.
        max_listed_problems (int): How many problems the error message
            lists (all are in ``AnnotationError.problems``). Defaults to 20.
        stream (str or Sequence[str], optional): The input stream(s),
            ``'j'``, ``'b'``, ``'jm'``, ``'bm'`` (or several, stacked on
            channels). It fills ``feats`` of each ``GenStreamFeat`` of the
            pipeline that leaves ``feats`` unset, so that one config template
            serves the four streams (a stream config only sets ``stream``).
            A pipeline without such a transform is an error. Defaults to
            None (the pipeline decides).
        person_pad (str, optional): ``'loop'`` or ``'zero'``: fills
            ``mode`` of each ``FormatGCNInput`` of the pipeline that leaves
            it unset (:func:`apply_person_pad`), so one pipeline serves
            NTU60 (zero padding) and NTU120 (the released copy of a lone
            actor). Defaults to None (the pipeline decides).
        **kwargs: Passed to :class:`PoseDataset` (``data_prefix``,
            ``test_mode``, ``valid_ratio``, ``box_thr``, ``serialize_data``,
            ``lazy_init``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[Dict, Callable]],
                 split: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 validate: bool = True,
                 missing_hint: Optional[str] = None,
                 max_listed_problems: int = 20,
                 stream: Optional[Union[str, Sequence[str]]] = None,
                 person_pad: Optional[str] = None,
                 **kwargs) -> None:
        if stream is not None:
            pipeline = apply_stream(pipeline, stream)
        if person_pad is not None:
            pipeline = apply_person_pad(pipeline, person_pad)
        self.stream = stream
        self.person_pad = person_pad
        self.validate = validate
        self.missing_hint = missing_hint
        self.max_listed_problems = max_listed_problems
        super().__init__(
            ann_file,
            pipeline=pipeline,
            split=split,
            num_classes=num_classes,
            **kwargs)

    def _load_file(self) -> object:
        """Load ``self.ann_file`` with a clear error when it is absent."""
        if not osp.isfile(self.ann_file):
            message = f'Annotation file not found: {self.ann_file}'
            if self.missing_hint:
                message += f'\n{self.missing_hint}'
            raise FileNotFoundError(message)
        if not self.ann_file.endswith(PICKLE_SUFFIXES):
            raise ValueError(f'{self.ann_file}: skeleton annotations must '
                             f'be a pickle ({"/".join(PICKLE_SUFFIXES)})')
        return safe_load(self.ann_file)

    def load_data_list(self) -> List[Dict]:
        """Load, check and split the annotation file.

        Returns:
            list[dict]: Shallow copies of the selected annotations.
        """
        data = self._load_file()
        if self.validate:
            assert_valid_annotations(
                data,
                file=self.ann_file,
                split=self.split,
                num_classes=self.num_classes,
                max_listed=self.max_listed_problems)
        data_list = [
            dict(anno)
            for anno in select_split(data, self.split, self.ann_file)
        ]
        names = class_names(data.get('classes')) if isinstance(
            data, dict) else None
        if names and not self._metainfo.get('classes'):
            self._metainfo['classes'] = names  # saved in checkpoints
        # kept past serialization for the class-count check of the tools
        labels = [int(np.asarray(a['label']).reshape(-1)[0])
                  for a in data_list if 'label' in a]
        self.label_range = (min(labels), max(labels)) if labels else None

        video_prefix = self.data_prefix.get('video')
        if video_prefix:
            for item in data_list:
                for key in ('filename', 'frame_dir'):
                    if key in item:
                        item[key] = osp.join(video_prefix, item[key])
        return data_list
