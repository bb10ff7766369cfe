"""Tiny ONNX stand-ins of RTMDet and RTMPose, built with ``onnx.helper``.

They have the real exported models' signatures (input ``input`` (B, 3, H,
W); RTMDet: ``dets`` (1, N, 5) and ``labels`` (1, N); RTMPose: ``simcc_x``
(B, 17, 2W) and ``simcc_y`` (B, 17, 2H)) and compute something checkable
on the generated videos (squares on black):

* the detector returns the box of the input pixels whose channel 0 is
  bright after normalisation (exclusive right/bottom edge), score 0.95, or
  score 0 when there is none; plus a full-input box of label 2 (not a
  person) with score 0.99;
* the pose model marks the bright columns / rows of channel 0 of the crop,
  two bins per pixel (by default); keypoints 0-8 peak at the first bright bin
  (weights ``0.9 - 1e-4 * bin``), keypoints 9-16 at the last one
  (weights ``0.8 + 1e-4 * bin``); all-zero logits where nothing is bright.
"""
from typing import Optional, Tuple

import numpy as np

FIRST, LAST = slice(0, 9), slice(9, 17)
LABEL_OTHER = 2


def _save(nodes, inputs, outputs, inits, path) -> str:
    import onnx
    from onnx import helper
    graph = helper.make_graph(nodes, 'tiny', inputs, outputs, inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _const(name: str, value) -> 'onnx.TensorProto':
    from onnx import numpy_helper
    return numpy_helper.from_array(np.asarray(value), name)


def _bright_mask(thr: float):
    """Nodes: ``input`` -> ``mask`` (B, 1, H, W) float, channel 0 > thr."""
    from onnx import TensorProto, helper
    return [
        helper.make_node('Slice', ['input', 'c0', 'c1', 'c1'], ['ch0']),
        helper.make_node('Greater', ['ch0', 'thr'], ['gt']),
        helper.make_node('Cast', ['gt'], ['mask'], to=TensorProto.FLOAT),
    ], [_const('c0', np.int64([0])), _const('c1', np.int64([1])),
        _const('thr', np.float32(thr))]


def make_rtmdet(path, input_hw: Tuple[int, int] = (640, 640),
                thr: float = 1.0, box_dim: int = 5,
                dynamic: bool = False) -> str:
    """The detector stand-in (``box_dim`` 6 imitates an export without
    NMS, which the backend refuses; ``dynamic``: symbolic H, W)."""
    from onnx import TensorProto, helper
    h, w = input_hw
    nodes, inits = _bright_mask(thr)
    for axis, name in ((2, 'col'), (3, 'row')):  # profiles over x and y
        nodes.append(helper.make_node('ReduceMax', ['mask'], [name],
                                      axes=[0, 1, axis], keepdims=0))
    nodes.append(helper.make_node('ReduceMax', ['mask'], ['any'],
                                  keepdims=0))
    for prof, lo, hi in (('col', 'x1', 'x2'), ('row', 'y1', 'y2')):
        nodes += [
            helper.make_node('ArgMax', [prof], [lo + 'i'], axis=0),
            helper.make_node('ArgMax', [prof], [hi + 'j'], axis=0,
                             select_last_index=1),
            helper.make_node('Add', [hi + 'j', 'one_i'], [hi + 'i']),
        ]
        for v in (lo, hi):
            nodes.append(helper.make_node('Cast', [v + 'i'], [v],
                                          to=TensorProto.FLOAT))
    nodes += [
        helper.make_node('Mul', ['any', 'det_score'], ['score0']),
        helper.make_node('Reshape', ['score0', 'one_shape'], ['score']),
        helper.make_node('Concat', ['x1', 'y1', 'x2', 'y2', 'score'] +
                         ['zero'] * (box_dim - 5) + ['other'], ['flat'],
                         axis=0),
        helper.make_node('Reshape', ['flat', 'dets_shape'], ['dets']),
        helper.make_node('Identity', ['labels_c'], ['labels']),
    ]
    other = [0, 0, w, h, 0.99] + [0] * (box_dim - 5)
    inits += [
        _const('one_i', np.int64([1])), _const('det_score', np.float32(0.95)),
        _const('one_shape', np.int64([1])), _const('other', np.float32(other)),
        _const('dets_shape', np.int64([1, 2, box_dim])),
        _const('labels_c', np.int64([[0, LABEL_OTHER]]))
    ] + ([_const('zero', np.float32([0]))] if box_dim > 5 else [])
    shape = [1, 3, 'height', 'width'] if dynamic else [1, 3, h, w]
    inputs = [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                            shape)]
    outputs = [
        helper.make_tensor_value_info('dets', TensorProto.FLOAT,
                                      [1, 'num_dets', box_dim]),
        helper.make_tensor_value_info('labels', TensorProto.INT64,
                                      [1, 'num_dets'])
    ]
    return _save(nodes, inputs, outputs, inits, path)


def simcc_weights(length: int) -> np.ndarray:
    """(17, length): where a keypoint's logits peak on a bright run."""
    bins = np.arange(length, dtype=np.float32)
    weights = np.empty((17, length), np.float32)
    weights[FIRST] = 0.9 - 1e-4 * bins
    weights[LAST] = 0.8 + 1e-4 * bins
    return weights


def make_rtmpose(path, input_hw: Tuple[int, int] = (256, 192),
                 batch: Optional[int] = None, thr: float = 0.0,
                 names: Tuple[str, str] = ('simcc_x', 'simcc_y'),
                 ratio: int = 2) -> str:
    """The pose stand-in; ``batch`` None: a dynamic batch axis; ``ratio``
    SimCC bins per pixel."""
    from onnx import TensorProto, helper
    h, w = input_hw
    nodes, inits = _bright_mask(thr)
    for axis, size, out in ((2, w, names[0]), (3, h, names[1])):
        p = f'p{axis}'
        nodes += [  # profile (B, 1, size) -> ratio bins per pixel, weights
            helper.make_node('ReduceMax', ['mask'], [p], axes=[axis],
                             keepdims=0),
            helper.make_node('Unsqueeze', [p, 'last'], [p + 'u']),
            helper.make_node('Concat', [p + 'u'] * ratio, [p + 'c'],
                             axis=-1),
            helper.make_node('Reshape', [p + 'c', 'keep_b'], [p + 'r']),
            helper.make_node('Mul', [p + 'r', f'w{axis}'], [out]),
        ]
        inits.append(_const(f'w{axis}', simcc_weights(ratio * size)))
    inits += [_const('last', np.int64([-1])),
              _const('keep_b', np.int64([0, 1, -1]))]
    b = 'batch' if batch is None else batch
    inputs = [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                            [b, 3, h, w])]
    outputs = [
        helper.make_tensor_value_info(names[0], TensorProto.FLOAT,
                                      [b, 17, ratio * w]),
        helper.make_tensor_value_info(names[1], TensorProto.FLOAT,
                                      [b, 17, ratio * h])
    ]
    return _save(nodes, inputs, outputs, inits, path)
