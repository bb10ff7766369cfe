"""ONNX export of CTR-GCN (trained with a contrastive head), ST-GCN++ and
every tapped encoder (2s-AGCN, HCN, BlockGCN, InfoGCN, Hyperformer, ...),
checked against PyTorch with onnxruntime at batch sizes other than the
export batch."""
import glob
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmskelcl.apis import init_recognizer
from ._analysis_helpers import load_tool
from tool_helpers import load_module

MISSING = [p for p in ('onnx', 'onnxruntime', 'onnxscript')
           if importlib.util.find_spec(p) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f'ONNX export tests need {", ".join(MISSING)} '
    '(pip install -e ".[tests]")')

NUM_CLASSES = 5
PIPELINE = [
    dict(type='PreNormalize2D'),
    dict(type='GenStreamFeat', layout='coco'),
    dict(type='UniformSampleFrames', clip_len=16, num_clips=2,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys=('frame_dir', )),
]
MODELS = dict(
    ctrgcn=dict(
        type='AuxRecognizerGCN',
        backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                      num_person=1, base_channels=8, num_stages=4,
                      inflate_stages=[3], down_stages=[3]),
        cls_head=dict(type='GCNHead', num_classes=NUM_CLASSES,
                      in_channels=16),
        aux_heads=dict(graph=dict(
            type='GraphContrastHead', in_dim=3 * 17 * 17,
            num_classes=NUM_CLASSES, proj_dim=16, bank=dict(size=32)))),
    stgcnpp=dict(
        type='RecognizerGCN',
        backbone=dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True,
                      tcn_type='mstcn', base_channels=16, num_stages=4,
                      inflate_stages=[3], down_stages=[3],
                      graph_cfg=dict(layout='coco', mode='spatial')),
        cls_head=dict(type='GCNHead', num_classes=NUM_CLASSES,
                      in_channels=32)))


def _write(root, name):
    """A config (the test pipeline sets the input shape) and a checkpoint
    with random weights and BN statistics (non-trivial outputs)."""
    from mmaction.registry import MODELS as REGISTRY
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')  # module fixture: before the autouse one
    config = str(root / f'{name}.py')
    Config(dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['mmskelcl'],
                            allow_failed_imports=False),
        model=MODELS[name],
        test_dataloader=dict(batch_size=1, dataset=dict(
            type='SkeletonDataset', ann_file='unused.pkl', stream='j',
            split='val', pipeline=PIPELINE, test_mode=True)))).dump(config)
    torch.manual_seed(0)
    model = REGISTRY.build(MODELS[name])
    with torch.no_grad():
        for key, value in model.named_parameters():
            if key.endswith('alpha'):  # CTR-GC's refinement on
                value.normal_(0, 0.5)
            elif key.endswith('weight') and value.dim() == 1:  # BN scales
                value.uniform_(0.5, 1.5)
        for module in model.modules():  # BN statistics of real activations
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.momentum = None
        model.train()
        for _ in range(3):
            model.extract_feat(torch.randn(8, 1, 1, 16, 17, 3),
                               stage='backbone')
        model.cls_head.fc.weight.normal_(0, 0.5)
    state = model.state_dict()
    checkpoint = str(root / f'{name}.pth')
    torch.save(dict(meta=dict(), state_dict=state), checkpoint)
    return config, checkpoint


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('onnx')
    return {name: _write(root, name) for name in MODELS}, root


@pytest.mark.parametrize('exporter', ['auto', 'legacy'])
@pytest.mark.parametrize('name', list(MODELS))
def test_export_tool(files, name, exporter, capsys):
    (config, checkpoint), root = files[0][name], files[1]
    out = str(root / f'{name}_{exporter}.onnx')
    load_tool('export_onnx.py').main(
        [config, checkpoint, out, '--exporter', exporter])
    text = capsys.readouterr().out
    used = 'dynamo' if exporter == 'auto' else 'legacy'
    assert f'with the {used} exporter' in text
    assert 'skeleton (batch, 2, 1, 16, 17, 3) -> scores (batch, 5)' in text
    assert 'max abs difference' in text
    diff = float(text.rsplit('max abs difference ', 1)[1].split()[0])
    assert diff < 1e-4
    import onnx
    import onnxruntime as ort
    graph = onnx.load(out).graph
    names = [t.name for t in graph.initializer]
    assert names and not [n for n in names if 'aux_heads' in n or 'bank'
                          in n]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param
    # the outputs are clip-averaged probabilities, batch is dynamic
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(0).normal(size=(4, 2, 1, 16, 17, 3))
    scores = session.run(None, {'skeleton': x.astype(np.float32)})[0]
    assert scores.shape == (4, NUM_CLASSES)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert scores.std(axis=0).max() > 1e-3  # inputs matter
    model = init_recognizer(config, checkpoint)
    data = torch.from_numpy(x).float()
    with torch.no_grad():
        logits, _ = model.extract_feat(data, stage='head')
    ref = logits.view(4, 2, -1).softmax(-1).mean(1).numpy()
    np.testing.assert_allclose(scores, ref, atol=1e-5)
    assert osp.getsize(out) > 10000


# ---------------------------------------------------------------------------
# Every tapped encoder (issue 10): the tiny configs of the tap-contract tests
# (tests/models/backbones/tiny_*.py, so a new encoder is covered as soon as
# it publishes taps), each with its classifier, exported with torch's
# default (dynamo) exporter without fallback and with the TorchScript one.
# ---------------------------------------------------------------------------
def _tiny_backbones():
    from ._analysis_helpers import REPO
    tiny = {}
    for path in sorted(glob.glob(osp.join(REPO, 'tests', 'models',
                                          'backbones', 'tiny_*.py'))):
        tiny.update(load_module(path, osp.basename(path)[:-3]).TINY)
    return tiny


TINY = _tiny_backbones()
# CTRGCN is the first section's; the rest of the registry's tapped backbones
ENCODERS = sorted(set(TINY) - {'CTRGCN'})
HEADS = dict(HCN='HCNHead', InfoGCN='InfoGCNHead')


def test_every_tiny_encoder_is_exported():
    """The five encoders of issue 10 are in the tiny set (a renamed or
    dropped tiny file would silently shrink the parametrisation)."""
    assert {'AGCN', 'HCN', 'BlockGCN', 'InfoGCN', 'Hyperformer'} <= set(
        ENCODERS)


def _encoder_model(name):
    """A recognizer config around TINY[name] (the head sized by a forward
    of the backbone) and its input shape (clips, M, T, V, C)."""
    from mmaction.registry import MODELS as REGISTRY
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    backbone, (_, m, t, v, c) = TINY[name]
    with torch.no_grad():
        out = REGISTRY.build(backbone).eval()(torch.zeros(1, m, t, v, c))
    channels = out.shape[2]
    head = HEADS.get(name, 'GCNHead')
    if head == 'HCNHead':  # flattened conv6 map of one person
        channels = int(np.prod(out.shape[2:]))
    cls_head = dict(type=head, num_classes=NUM_CLASSES, in_channels=channels)
    if head == 'HCNHead':
        cls_head['hidden_channels'] = 16
    return dict(type='RecognizerGCN', backbone=backbone,
                cls_head=cls_head), (2, m, t, v, c)


def _write_encoder(root, name):
    """Config (its test pipeline gives the input shape) and a checkpoint
    with perturbed weights, BN statistics of real activations and a wide
    classifier, so that the scores depend on the input."""
    from mmaction.registry import MODELS as REGISTRY
    model_cfg, (clips, m, t, v, c) = _encoder_model(name)
    pipeline = [
        dict(type='UniformSampleFrames', clip_len=t, num_clips=clips,
             test_mode=True),
        dict(type='PoseDecode'),
        dict(type='GenStreamFeat',
             layout=model_cfg['backbone']['graph_cfg']['layout']),
        dict(type='FormatGCNInput', num_person=m),
        dict(type='PackActionInputs', meta_keys=('frame_dir', )),
    ]
    config = str(root / f'{name}.py')
    Config(dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['mmskelcl'],
                            allow_failed_imports=False),
        model=model_cfg,
        test_dataloader=dict(batch_size=1, dataset=dict(
            type='SkeletonDataset', ann_file='unused.pkl', stream='j',
            split='val', pipeline=pipeline, test_mode=True)))).dump(config)
    torch.manual_seed(0)
    model = REGISTRY.build(model_cfg)
    with torch.no_grad():
        for value in model.parameters():  # break zero / constant inits
            value.add_(0.05 * torch.randn_like(value))
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.weight.uniform_(0.5, 1.5)
                module.momentum = None  # cumulative statistics
        model.train()
        for _ in range(3):
            model.extract_feat(torch.randn(8, 1, m, t, v, c),
                               stage='backbone')
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                # channels a random model leaves nearly dead would scale
                # float32 rounding by up to 1 / sqrt(eps) (InfoGCN: > 1e-4)
                module.running_var.clamp_(min=0.01)
        classifier = [mod for mod in model.cls_head.modules()
                      if isinstance(mod, torch.nn.Linear)][-1]
        classifier.weight.normal_(0, 0.5)
    checkpoint = str(root / f'{name}.pth')
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), checkpoint)
    return config, checkpoint, (clips, m, t, v, c)


@pytest.fixture(scope='module')
def encoder_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('onnx_encoders')
    return {name: _write_encoder(root, name) for name in ENCODERS}, root


@pytest.mark.parametrize('exporter', ['dynamo', 'legacy'])
@pytest.mark.parametrize('name', ENCODERS)
def test_encoder_export(encoder_files, name, exporter, capsys):
    (config, checkpoint, shape), root = encoder_files[0][name], \
        encoder_files[1]
    out = str(root / f'{name}_{exporter}.onnx')
    load_tool('export_onnx.py').main(
        [config, checkpoint, out, '--exporter', exporter])
    text = capsys.readouterr().out
    # the shape the tool read from the test pipeline and the backbone
    dims = ', '.join(map(str, shape))
    assert (f'with the {exporter} exporter' in text and
            f'skeleton (batch, {dims}) -> scores (batch, {NUM_CLASSES})'
            in text), text
    import onnxruntime as ort
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(1).normal(size=(3, *shape)).astype(np.float32)
    scores = session.run(None, {'skeleton': x})[0]
    model = init_recognizer(config, checkpoint)
    with torch.no_grad():
        logits, _ = model.extract_feat(torch.from_numpy(x), stage='head')
    ref = logits.view(3, shape[0], -1).softmax(-1).mean(1).numpy()
    assert scores.shape == (3, NUM_CLASSES)
    assert scores.std(axis=0).max() > 1e-3  # the inputs matter
    # the tool's default tolerance: float32 rounding through InfoGCN's
    # attention softmaxes reaches 3e-5; torch's own TorchScript cdist
    # formula gave BlockGCN 5e-4
    np.testing.assert_allclose(scores, ref, atol=1e-4)
