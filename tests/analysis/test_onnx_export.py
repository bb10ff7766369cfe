"""ONNX export of CTR-GCN (trained with a contrastive head) and ST-GCN++,
checked against PyTorch with onnxruntime at batch sizes other than the
export batch."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmskelcl.apis import init_recognizer
from ._analysis_helpers import load_tool

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
