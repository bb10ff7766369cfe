"""ONNX export of the inference recognizer, checked with onnxruntime.

The exported graph maps ``skeleton`` ``(N, clips, M, T, V, C)`` (what the
test pipeline's ``FormatGCNInput`` + collation give) to ``scores``
``(N, K)``: the class scores averaged over the clips as the head's
``average_clips`` says (``'prob'``: mean of the softmax, MMAction2's
default; ``'score'``: mean of the logits; ``None``: ``(N, clips, K)``
logits). The batch axis is dynamic; clips, persons, frames, joints and
channels are fixed by the config. The model is :func:`init_recognizer`'s,
so training-only heads (contrastive heads, memory banks) are not in it.

Needs ``onnx`` and ``onnxruntime`` (``pip install "mmskelcl[export]"``);
torch's default (dynamo) exporter also needs ``onnxscript``. Every encoder
of the project exports with both exporters; ``torch.cdist`` (BlockGCN's
persistence encoding) has no ONNX function in torch's dynamo exporter,
and the TorchScript exporter writes ``(sum |d|^p)^(1 / (p + 1e-6))``,
whose error the persistence encoding amplifies (5e-4 in the scores of a
tiny BlockGCN), so :func:`export_onnx` gives both exporters the exact
pairwise-difference formula (:func:`_onnx_cdist`, :func:`_legacy_cdist`).
"""
import inspect
import warnings
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

Shape = Tuple[int, int, int, int, int]
EXPORTERS = ('auto', 'dynamo', 'legacy')
LEGACY_OPSET = 17


class ScoreModel(nn.Module):
    """Recognizer + clip averaging as one traceable module.

    Args:
        recognizer (nn.Module): A ``RecognizerGCN`` (eval mode).
    """

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer
        self.average_clips = getattr(recognizer.cls_head, 'average_clips',
                                     'prob')
        if self.average_clips not in ('prob', 'score', None):
            raise ValueError(f'unsupported average_clips '
                             f'{self.average_clips!r}')

    def forward(self, skeleton: torch.Tensor) -> torch.Tensor:
        n, clips = skeleton.shape[0], skeleton.shape[1]
        logits, _ = self.recognizer.extract_feat(skeleton, stage='head')
        logits = logits.reshape(n, clips, -1)
        if self.average_clips == 'prob':
            return logits.softmax(dim=-1).mean(dim=1)
        if self.average_clips == 'score':
            return logits.mean(dim=1)
        return logits


def input_shape_of(model: nn.Module,
                   pipeline: Sequence[Mapping[str, Any]]) -> Shape:
    """``(clips, M, T, V, C)`` the test pipeline feeds ``model``.

    Clips and frames come from the pipeline's sampling step (``num_clips``,
    ``clip_len``), persons from ``FormatGCNInput``, joints from the
    backbone's graph and channels from the backbone's ``in_channels``.
    """
    clips, frames, persons = 1, None, 2
    for step in pipeline:
        if not isinstance(step, Mapping):
            continue
        kind = str(step.get('type', '')).split('.')[-1]
        if 'clip_len' in step:
            frames = int(step['clip_len'])
            clips = int(step.get('num_clips', 1))
        if kind == 'FormatGCNInput':
            persons = int(step.get('num_person', 2))
    if frames is None:
        raise ValueError('no step of the test pipeline sets clip_len; give '
                         'the input shape explicitly')
    backbone = model.backbone
    joints = getattr(backbone, 'num_joints', None)
    if joints is None:
        joints = np.asarray(backbone.graph.A).shape[-1]
    return clips, persons, frames, int(joints), input_channels(model)


def input_channels(model: nn.Module) -> int:
    """Channels of the backbone's input: its ``in_channels`` (the
    attribute, else the model config's value, else the constructor's
    default) plus BlockGCN's ``topo_channels`` (joints appended for the
    persistence encoding)."""
    backbone = model.backbone
    channels = getattr(backbone, 'in_channels', None)
    if channels is None:
        cfg = getattr(model, 'cfg', None)
        if cfg is not None:
            channels = cfg.model.get('backbone', {}).get('in_channels')
    if channels is None:
        param = inspect.signature(type(backbone).__init__).parameters.get(
            'in_channels')
        if param is None or param.default is inspect.Parameter.empty:
            raise ValueError(f'cannot tell the input channels of '
                             f'{type(backbone).__name__}; give the input '
                             'shape explicitly (--input-shape)')
        channels = param.default
    return int(channels) + int(getattr(backbone, 'topo_channels', 0) or 0)


def _onnx_cdist(x1, x2, p: float = 2.0, compute_mode=None):
    """ONNX translation of ``aten::_cdist_forward`` for the dynamo
    exporter: ``(sum_k |x1_ik - x2_jk|^p)^(1/p)`` from the broadcast
    difference (the direct formula ``torch.cdist`` uses for up to 25
    points; onnxscript has no translation)."""
    from onnxscript import opset18 as op
    diff = op.Sub(op.Unsqueeze(x1, [-2]), op.Unsqueeze(x2, [-3]))
    if p == 2.0:
        return op.Sqrt(op.ReduceSum(op.Mul(diff, diff), [-1], keepdims=0))
    if p == 1.0:
        return op.ReduceSum(op.Abs(diff), [-1], keepdims=0)
    if p == float('inf'):
        return op.ReduceMax(op.Abs(diff), [-1], keepdims=0)
    return op.Pow(op.ReduceSum(op.Pow(op.Abs(diff), p), [-1], keepdims=0),
                  1.0 / p)


def _legacy_cdist(g, x1, x2, p, compute_mode):
    """TorchScript-exporter symbolic of ``aten::cdist`` (opset >= 13):
    the formula of :func:`_onnx_cdist` (torch's own puts ``p + 1e-6`` in
    the root's exponent)."""
    from torch.onnx.symbolic_helper import _parse_arg
    p = _parse_arg(p, 'f')

    def const(value):
        return g.op('Constant', value_t=torch.tensor(value))

    diff = g.op('Sub', g.op('Unsqueeze', x1, const([-2])),
                g.op('Unsqueeze', x2, const([-3])))
    absd = g.op('Abs', diff)
    if p == float('inf'):  # ReduceMax takes its axes as input from 18
        return (g.op('ReduceMax', absd, const([-1]), keepdims_i=0)
                if g.opset >= 18 else
                g.op('ReduceMax', absd, axes_i=[-1], keepdims_i=0))
    if p == 2.0:
        return g.op('Sqrt', g.op('ReduceSum', g.op('Mul', diff, diff),
                                 const([-1]), keepdims_i=0))
    total = g.op('ReduceSum', g.op('Pow', absd, const(p)), const([-1]),
                 keepdims_i=0)
    return total if p == 1.0 else g.op('Pow', total, const(1.0 / p))


def _export(module: nn.Module, example: torch.Tensor, path: str,
            exporter: str, opset: Optional[int]) -> None:
    kwargs: Dict[str, Any] = dict(input_names=['skeleton'],
                                  output_names=['scores'])
    if exporter == 'dynamo':
        if opset is not None:
            kwargs['opset_version'] = opset
        batch = torch.export.Dim('batch', min=1, max=65536)
        with warnings.catch_warnings():  # torch-internal deprecation noise
            warnings.filterwarnings('ignore', message='.*LeafSpec',
                                    category=FutureWarning)
            torch.onnx.export(
                module, (example, ), path, dynamo=True,
                dynamic_shapes=({0: batch}, ),
                custom_translation_table={
                    torch.ops.aten._cdist_forward.default: _onnx_cdist},
                **kwargs)
    else:
        torch.onnx.register_custom_op_symbolic('aten::cdist', _legacy_cdist,
                                               13)
        try:
            with warnings.catch_warnings():
                # shape checks of the backbones/head run once while
                # tracing (all shapes but the batch are fixed), and the
                # legacy exporter is chosen on purpose here
                warnings.simplefilter('ignore', torch.jit.TracerWarning)
                warnings.simplefilter('ignore', DeprecationWarning)
                torch.onnx.export(module, (example, ), path, dynamo=False,
                                  dynamic_axes={'skeleton': {0: 'batch'},
                                                'scores': {0: 'batch'}},
                                  opset_version=opset or LEGACY_OPSET,
                                  do_constant_folding=True, **kwargs)
        finally:
            torch.onnx.unregister_custom_op_symbolic('aten::cdist', 13)


def onnx_opset(path: str) -> int:
    """The default-domain opset of an ONNX file."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return next(o.version for o in model.opset_import if o.domain in ('',
                                                                   'ai.onnx'))


def export_onnx(recognizer: nn.Module,
                path: str,
                input_shape: Shape,
                exporter: str = 'auto',
                opset: Optional[int] = None) -> Dict[str, Any]:
    """Export the recognizer's scores to an ONNX file.

    Args:
        recognizer (nn.Module): From :func:`init_recognizer` (eval mode).
        path (str): Output ``.onnx``.
        input_shape (tuple): ``(clips, M, T, V, C)``.
        exporter (str): ``'dynamo'`` (torch's default exporter),
            ``'legacy'`` (TorchScript-based, ``dynamo=False``) or
            ``'auto'``: dynamo, and legacy if dynamo fails.
        opset (int, optional): ONNX opset; default 17 for the legacy
            exporter and torch's default for dynamo (which writes at least
            18: it keeps 18 when asked for less and the conversion fails).

    Returns:
        dict: ``exporter`` (the one that succeeded), ``opset`` (of the
        written file) and ``errors`` (the message of a failed dynamo
        attempt, if any).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter must be one of {EXPORTERS}')
    module = ScoreModel(recognizer.cpu().eval()).eval()
    example = torch.randn(2, *input_shape)
    errors = {}
    order = ['dynamo', 'legacy'] if exporter == 'auto' else [exporter]
    for kind in order:
        try:
            with torch.no_grad():
                _export(module, example, path, kind, opset)
            return dict(exporter=kind, opset=onnx_opset(path), errors=errors)
        except Exception as err:  # noqa: BLE001 - reported, then fallback
            if kind == order[-1]:
                raise
            errors[kind] = f'{type(err).__name__}: {err}'.splitlines()[0]
    raise AssertionError('unreachable')


def verify_onnx(path: str,
                recognizer: nn.Module,
                input_shape: Shape,
                batch_sizes: Sequence[int] = (1, 3),
                seed: int = 0) -> Dict[str, Any]:
    """Compare onnxruntime with PyTorch on random inputs.

    Args:
        path (str): The ONNX file.
        recognizer (nn.Module): The exported recognizer.
        input_shape (tuple): ``(clips, M, T, V, C)``.
        batch_sizes (Sequence[int]): Batch sizes to run (differ from the
            export batch of 2, to check that the batch axis is dynamic).
        seed (int): Seed of the random inputs.

    Returns:
        dict: ``max_abs_diff`` over all runs, ``output_shapes`` and
        ``batch_sizes``.
    """
    try:
        import onnx
        import onnxruntime as ort
    except ImportError as err:
        raise ImportError('verifying the export needs onnx and onnxruntime:'
                          ' pip install "mmskelcl[export]"') from err
    onnx.checker.check_model(onnx.load(path))
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    input_name = session.get_inputs()[0].name
    module = ScoreModel(recognizer.cpu().eval()).eval()
    gen = torch.Generator().manual_seed(seed)
    worst, shapes = 0.0, []
    for batch in batch_sizes:
        x = torch.randn(batch, *input_shape, generator=gen)
        with torch.no_grad():
            ref = module(x).numpy()
        out = session.run(None, {input_name: x.numpy()})[0]
        if out.shape != ref.shape:
            raise AssertionError(f'onnxruntime output {out.shape} != '
                                 f'PyTorch {ref.shape} for batch {batch}')
        worst = max(worst, float(np.abs(out - ref).max()))
        shapes.append(tuple(out.shape))
    return dict(max_abs_diff=worst, output_shapes=shapes,
                batch_sizes=list(batch_sizes))


def onnx_parameter_names(path: str) -> Optional[list]:
    """Names of the initializers (weights) of an ONNX file."""
    import onnx
    return [t.name for t in onnx.load(path).graph.initializer]
