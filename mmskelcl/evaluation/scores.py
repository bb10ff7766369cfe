"""Per-stream class scores and the score files they are loaded from.

:class:`StreamScores` holds the per-sample class scores of one stream (joint,
bone, joint-motion, bone-motion, ...) keyed by sample id. The loaders below
read every score-file format that :mod:`mmskelcl.evaluation.fusion` can fuse.

Accepted score files
    1. A single-stream dump of this project: a dict with ``ids`` (list of
       str, length N), ``scores`` (float array N x K), ``labels`` (int array
       N), ``stream`` (str) and optionally ``meta`` (dict) and further keys,
       which are kept as metadata.
    2. A multi-stream dump written by
       :func:`mmskelcl.evaluation.fusion_io.save_fusion` (``tools/test.py
       --dump``): a dict with ``format='mmskelcl.fusion'``, ``version``,
       ``ids``, ``labels``, ``streams`` (names), ``weights``,
       ``stream_scores`` (name -> N x K array), ``fused`` (N x K),
       ``metrics``, ``apply_softmax`` and ``meta`` (name -> dict). Loading it
       yields its per-stream entries, so the streams can be re-fused.
    3. An MMAction2 / mmengine ``DumpResults`` pickle (``--dump`` of
       MMAction2's ``tools/test.py``): a list of data-sample dicts with
       ``pred_score`` and ``gt_label``. The id is the sample's ``frame_dir``
       metainfo, which is only present when the test pipeline's
       ``PackActionInputs`` lists ``'frame_dir'`` in its ``meta_keys``.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from mmskelcl.utils.safe_pickle import safe_load

#: ``format`` field and version of the multi-stream dump (format 2 above).
FUSION_FORMAT = 'mmskelcl.fusion'
FUSION_FORMAT_VERSION = 1

_FRAME_DIR_HINT = (
    "add 'frame_dir' to the meta_keys of PackActionInputs in the test "
    "pipeline, e.g. dict(type='PackActionInputs', "
    "meta_keys=('frame_dir', )), and dump the scores again "
    '(mmskelcl\'s tools/test.py does this automatically)')

_NUM_EXAMPLES = 3


@dataclass
class StreamScores:
    """Per-sample class scores of one stream.

    Args:
        name (str): Stream name, e.g. ``'j'``.
        ids (list[str]): Sample ids (``frame_dir``), length N, unique.
        scores (np.ndarray): Float class scores, shape (N, K).
        labels (np.ndarray): Integer ground-truth labels, shape (N, ).
        meta (dict): Free-form metadata (config, checkpoint, source file,
            ...). Defaults to an empty dict.
    """

    name: str
    ids: List[str]
    scores: np.ndarray
    labels: np.ndarray
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        self.scores = np.asarray(self.scores)
        self.labels = np.asarray(self.labels)
        where = f'stream {self.name!r}'
        if self.scores.ndim != 2:
            raise ValueError(f'{where}: scores must have shape (N, K), got '
                             f'{self.scores.shape}')
        if not np.issubdtype(self.scores.dtype, np.floating):
            self.scores = self.scores.astype(np.float64)
        if self.labels.ndim != 1 or not np.issubdtype(
                self.labels.dtype, np.integer):
            raise ValueError(f'{where}: labels must be a 1-D integer array '
                             f'(single-label), got dtype {self.labels.dtype} '
                             f'and shape {self.labels.shape}')
        self.labels = self.labels.astype(np.int64)
        n = len(self.ids)
        if self.scores.shape[0] != n or self.labels.shape[0] != n:
            raise ValueError(
                f'{where}: {n} ids but {self.scores.shape[0]} score rows and '
                f'{self.labels.shape[0]} labels')
        counts: Dict[str, int] = {}
        for i in self.ids:
            counts[i] = counts.get(i, 0) + 1
        dups = [i for i, c in counts.items() if c > 1]
        if dups:
            raise ValueError(
                f'{where}: {len(dups)} ids occur more than once (ids must be '
                f'unique to align streams), e.g. {dups[:_NUM_EXAMPLES]}')

    @property
    def num_classes(self) -> int:
        """int: Number of classes K."""
        return int(self.scores.shape[1])

    def to_dict(self) -> Dict[str, Any]:
        """Serialise to the single-stream dump format."""
        return dict(
            ids=list(self.ids),
            scores=self.scores,
            labels=self.labels,
            stream=self.name,
            meta=dict(self.meta))

    def take(self, ids: Sequence[str]) -> 'StreamScores':
        """Return the rows of ``ids``, in that order.

        Args:
            ids (Sequence[str]): Ids, all present in this stream.

        Returns:
            StreamScores: The reordered stream.
        """
        index = {i: k for k, i in enumerate(self.ids)}
        rows = np.array([index[i] for i in ids], dtype=np.int64)
        return StreamScores(self.name, list(ids), self.scores[rows],
                            self.labels[rows], dict(self.meta))


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------
def load_score_file(path: str,
                    name: Optional[str] = None) -> List[StreamScores]:
    """Load the streams held by one score file.

    Args:
        path (str): A pickle in one of the formats of this module's
            docstring.
        name (str, optional): Stream name for a single-stream file; by
            default the file's ``stream`` field, else the file stem. Ignored
            (with an error if given) for multi-stream dumps.

    Returns:
        list[StreamScores]: One entry, or several for a multi-stream dump.
    """
    obj = safe_load(path)
    return parse_scores(obj, name=name, source=path)


def parse_scores(obj: Any,
                 name: Optional[str] = None,
                 source: Optional[str] = None) -> List[StreamScores]:
    """Parse a loaded score object (see :func:`load_score_file`).

    Args:
        obj (Any): The unpickled object.
        name (str, optional): Stream name override for single streams.
        source (str, optional): File path, used for the default name and
            in error messages.

    Returns:
        list[StreamScores]: The streams the object holds.
    """
    where = f'{source!r}' if source else 'score object'
    default_name = name or (osp.splitext(osp.basename(source))[0]
                            if source else 'stream')
    if isinstance(obj, Mapping):
        if obj.get('format') == FUSION_FORMAT or 'stream_scores' in obj:
            if name is not None:
                raise ValueError(f'{where} is a multi-stream dump; its '
                                 'stream names come from the file')
            return _parse_fusion_dump(obj, source)
        missing = [k for k in ('ids', 'scores', 'labels') if k not in obj]
        if missing:
            raise ValueError(f'{where}: a score dict needs the keys ids, '
                             f'scores and labels; missing {missing}')
        meta = dict(obj.get('meta') or {})
        meta.update({
            k: v
            for k, v in obj.items()
            if k not in ('ids', 'scores', 'labels', 'stream', 'meta')
        })
        if source:
            meta.setdefault('source', source)
        return [
            StreamScores(name or obj.get('stream') or default_name,
                         list(obj['ids']), obj['scores'], obj['labels'], meta)
        ]
    if isinstance(obj, (list, tuple)):
        return [dump_results_to_scores(obj, default_name, source)]
    raise TypeError(f'{where}: expected a score dict or a DumpResults list '
                    f'of data samples, got {type(obj).__name__}')


def _parse_fusion_dump(obj: Mapping, source: Optional[str]) -> List[
        StreamScores]:
    """Split a multi-stream dump into its streams."""
    meta = obj.get('meta') or {}
    streams = []
    for stream_name in obj['streams']:
        stream_meta = dict(meta.get(stream_name) or {})
        if source:
            stream_meta.setdefault('source', source)
        streams.append(
            StreamScores(stream_name, list(obj['ids']),
                         obj['stream_scores'][stream_name], obj['labels'],
                         stream_meta))
    return streams


def dump_results_to_scores(samples: Sequence[Any],
                           name: str,
                           source: Optional[str] = None) -> StreamScores:
    """Convert an mmengine ``DumpResults`` list into :class:`StreamScores`.

    Args:
        samples (Sequence): Data samples as dicts (``ActionDataSample``
            ``to_dict()``, metainfo keys at the top level or under
            ``metainfo``) or as data-sample objects.
        name (str): Stream name.
        source (str, optional): File path, for error messages.

    Returns:
        StreamScores: The stream, ids taken from ``frame_dir``.

    Raises:
        KeyError: A sample has no ``frame_dir`` (with the fix in the
            message), ``pred_score`` or ``gt_label``.
    """
    where = f'DumpResults file {source!r}' if source else 'DumpResults list'
    if len(samples) == 0:
        raise ValueError(f'{where} is empty')
    ids, scores, labels = [], [], []
    for k, sample in enumerate(samples):
        if hasattr(sample, 'to_dict') and not isinstance(sample, Mapping):
            sample = sample.to_dict()
        if not isinstance(sample, Mapping):
            raise TypeError(f'{where}: item {k} is a {type(sample).__name__}'
                            ', not a data-sample dict')
        metainfo = sample.get('metainfo') or {}
        frame_dir = sample.get('frame_dir', metainfo.get('frame_dir'))
        if frame_dir is None:
            raise KeyError(
                f'{where}: sample {k} has no frame_dir, so its scores cannot '
                f'be matched to other streams by id; {_FRAME_DIR_HINT}')
        for key in ('pred_score', 'gt_label'):
            if key not in sample:
                raise KeyError(f'{where}: sample {k} ({frame_dir}) has no '
                               f'{key!r}')
        pred = sample['pred_score']
        if isinstance(pred, Mapping):
            raise TypeError(f'{where}: sample {k} has a dict pred_score '
                            f'(keys {list(pred)}); only single-modality '
                            'scores can be fused')
        label = _to_numpy(sample['gt_label']).reshape(-1)
        if label.size != 1:
            raise ValueError(f'{where}: sample {k} has {label.size} labels; '
                             'only single-label results can be fused')
        ids.append(str(frame_dir))
        scores.append(_to_numpy(pred).reshape(-1))
        labels.append(int(label[0]))
    meta: Dict[str, Any] = dict(format='DumpResults')
    if source:
        meta['source'] = source
    return StreamScores(name, ids, np.stack(scores),
                        np.asarray(labels, dtype=np.int64), meta)


def _to_numpy(value: Any) -> np.ndarray:
    """Convert a tensor, array or number to a numpy array."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
