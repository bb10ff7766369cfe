"""Opt-in ``torch.compile`` of the backbone (CompileBackboneHook,
``tools/train.py --compile``): the compiled model gives the eager model's
logits and gradients, parameter names and checkpoints are unchanged.

The default suite compiles with the ``eager`` backend (Dynamo's graph
capture: guards, graph breaks, the replayed graph; seconds). The inductor
backend (generated C++ kernels) takes minutes to compile on a small CPU,
so its test runs with ``MMSKELCL_INDUCTOR=1``.
"""
import copy
import math
import os
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmskelcl  # noqa: F401
from mmskelcl.engine import CompileBackboneHook, compile_backbone
from tiny_run import TINY_BACKBONE, tiny_runner_cfg, write_tiny_pickle
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL = dict(type='RecognizerGCN', backbone=TINY_BACKBONE,
             cls_head=dict(type='GCNHead', num_classes=3, in_channels=8))


def _train_tool():
    return load_tool('train.py')


def _pair():
    init_default_scope('mmaction')
    torch.manual_seed(0)
    eager = MODELS.build(copy.deepcopy(MODEL))
    compiled = copy.deepcopy(eager)
    return eager, compiled


def _logits_and_grads(model, x):
    model.zero_grad()
    feats = model.backbone(x)
    logits = model.cls_head(feats)
    logits.square().sum().backward()
    return logits.detach(), [p.grad.clone() for p in model.parameters()]


def _check_same(backend, rtol, atol):
    eager, compiled = _pair()
    keys = list(eager.state_dict())
    compile_backbone(compiled, backend=backend)
    assert compiled.backbone._compiled_call_impl is not None
    assert list(compiled.state_dict()) == keys  # checkpoints unchanged
    x = torch.randn(3, 1, 8, 17, 3, generator=torch.Generator()
                    .manual_seed(1))
    for mode in ('train', 'eval'):
        getattr(eager, mode)()
        getattr(compiled, mode)()
        ref, ref_grads = _logits_and_grads(eager, x)
        out, grads = _logits_and_grads(compiled, x)
        assert ref.abs().max() > 1e-3  # not a trivially zero output
        torch.testing.assert_close(out, ref, rtol=rtol, atol=atol)
        for g, r in zip(grads, ref_grads):
            torch.testing.assert_close(g, r, rtol=rtol, atol=atol)
    # BN running statistics were updated identically in train mode
    torch.testing.assert_close(compiled.backbone.data_bn.running_mean,
                               eager.backbone.data_bn.running_mean)


def test_compiled_backbone_gives_eager_logits():
    _check_same('eager', rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(
    os.environ.get('MMSKELCL_INDUCTOR') != '1',
    reason='inductor compilation takes minutes on a small CPU; run with '
    'MMSKELCL_INDUCTOR=1')
def test_inductor_backbone_gives_eager_logits():
    _check_same('inductor', rtol=1e-4, atol=1e-5)


def test_hook_requires_a_backbone():
    with pytest.raises(ValueError, match='no backbone'):
        compile_backbone(torch.nn.Linear(2, 2))


def test_train_compile_flag_trains_a_compiled_backbone(tmp_path):
    train_tool = _train_tool()
    ann = str(tmp_path / 'tiny.pkl')
    write_tiny_pickle(ann)
    cfg = tiny_runner_cfg(ann, str(tmp_path / 'work'), MODEL, max_epochs=1)
    cfg_file = str(tmp_path / 'tiny_cfg.py')
    cfg.dump(cfg_file)
    args = train_tool.parse_args([cfg_file, '--compile', 'eager'])
    cfg = train_tool.merge_args(cfg, args)
    assert cfg.custom_hooks[-1] == dict(type='CompileBackboneHook',
                                        backend='eager')
    runner = Runner.from_cfg(cfg)
    runner.train()
    hooks = [h for h in runner.hooks if isinstance(h, CompileBackboneHook)]
    assert len(hooks) == 1
    assert runner.model.backbone._compiled_call_impl is not None
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    ckpt = torch.load(str(tmp_path / 'work' / 'epoch_1.pth'),
                      weights_only=False)
    # the checkpoint loads into an eager model of the config
    eager = MODELS.build(copy.deepcopy(MODEL))
    eager.load_state_dict(ckpt['state_dict'])
    # flag value: bare --compile is inductor
    assert train_tool.parse_args([cfg_file, '--compile']).compile == \
        'inductor'
