"""tools/benchmark.py --skeattnclr on a tiny BiGRU pretraining config: the
queue and key-encoder bytes against a hand count, the ratio, the
supervised model, and a refusal of non-SkeAttnCLR configs."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

from mmskelcl.utils.benchmark.skeattnclr import (skeattnclr_cost,
                                                 supervised_config)
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    return load_tool('benchmark.py')


def _tiny_config(path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ntu60_xsub',
                                   'skeattnclr_bigru_j_pretrain.py'))
    cfg.model.backbone.update(hidden_channels=4, num_layers=1)
    cfg.model.neck.update(in_channels=8, num_heads=2, projector=dict(
        type='MLP1D', in_channels=8, hid_channels=6, out_channels=5))
    cfg.model.predictor.update(in_channels=5, hid_channels=6,
                               out_channels=5)
    cfg.model.mix.update(temporal_units=(1, 2))
    cfg.model.update(queue_len=12, feat_dim=5)
    cfg.dump(str(path))
    return str(path)


def test_memory_by_hand_and_ratio_through_the_cli(tmp_path, capsys):
    config = _tiny_config(tmp_path / 'tiny_pretrain.py')
    _tool().main(['--skeattnclr', config, '--batch-size', '4', '--iters',
                  '2', '--warmup', '1', '--device', 'cpu', '--shape', '2',
                  '8', '25', '3'])
    out = capsys.readouterr()
    res = json.loads(out.out.strip().splitlines()[-1])
    assert 'SkeAttnCLR pretraining step' in out.err
    # queue: K x D float32
    assert (res['queue_len'], res['feat_dim']) == (12, 5)
    assert res['queue_bytes'] == 12 * 5 * 4
    # + labels (int64), valid flags (bool), pointer (int64)
    assert res['queue_buffers_bytes'] == 240 + 12 * 8 + 12 + 8
    # key encoder by hand. BiGRU, 4 units, 1 layer, input 25 * 3 * 2:
    # input BN (weight, bias) and per direction 3 gates x (150 + 4 + 2)
    gru = 2 * (3 * 4 * 150 + 3 * 4 * 4 + 2 * 3 * 4)
    backbone = 2 * 150 + gru
    # neck, 8 channels: LayerNorm, q/k/v, proj, projector 8 -> 6 -> 5
    neck = 2 * 8 + (8 * 24 + 24) + (8 * 8 + 8) + (8 * 6 + 2 * 6 + 6 * 5)
    assert res['key_encoder_params'] == backbone + neck == 4438
    assert res['key_encoder_param_bytes'] == 4 * 4438
    # BN statistics: input BN 150 + projector BN 6 (mean, var) floats and
    # one int64 batch counter each
    buffers = 4 * 2 * (150 + 6) + 2 * 8
    assert res['key_encoder_buffer_bytes'] == buffers
    assert res['key_encoder_bytes'] == 4 * 4438 + buffers
    # query + key encoders and three predictors (5 -> 6 -> 5)
    assert res['pretrain_params'] == 2 * 4438 + 3 * (30 + 12 + 30)
    # the supervised model: the same backbone and a 60-class GCNHead on 8
    assert res['supervised_params'] == backbone + 8 * 60 + 60
    assert res['step_ratio'] == pytest.approx(
        res['pretrain_step_ms'] / res['supervised_step_ms'])
    assert res['batch_size'] == 4 and res['input_shape'] == [2, 8, 25, 3]
    assert res['backbone'] == 'BiGRU' and res['iters'] == 2


def test_supervised_model_and_refusal(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ntu60_xsub',
                                   'skeattnclr_stgcn_j_pretrain.py'))
    sup = supervised_config(cfg)
    assert sup.model.backbone == cfg.model.backbone
    assert sup.model.cls_head == dict(type='GCNHead', num_classes=60,
                                      in_channels=256)
    assert sup.optim_wrapper == cfg.optim_wrapper
    assert sup.train_dataloader.batch_size == 128
    linear = osp.join(REPO, 'configs', 'ntu60_xsub',
                      'skeattnclr_stgcn_j_linear.py')
    with pytest.raises(ValueError, match='SkeAttnCLR pretraining config'):
        skeattnclr_cost(linear, iters=1, warmup=0, device='cpu')


def test_timed_step_includes_the_momentum_update(tmp_path):
    """A timed pretraining step ends with the hook's EMA:
    k = m k + (1 - m) q for every key-encoder parameter."""
    import torch

    from mmskelcl.utils.benchmark.skeattnclr import _Pretrain, base_momentum
    cfg = Config.fromfile(_tiny_config(tmp_path / 'tiny.py'))
    m = base_momentum(cfg)
    assert m == [h for h in cfg.custom_hooks
                 if h.type == 'MomentumUpdateHook'][0].get('momentum', m)
    pre = _Pretrain(cfg, torch.device('cpu'), 4, (2, 8, 25, 3), 0, m)
    key = {k: v.clone() for k, v in pre.model.backbone_k.named_parameters()}
    pre.train_step()
    query = dict(pre.model.backbone.named_parameters())
    for name, k_new in pre.model.backbone_k.named_parameters():
        torch.testing.assert_close(
            k_new, m * key[name] + (1 - m) * query[name].detach())
    assert any(not torch.equal(key[n], p)
               for n, p in pre.model.backbone_k.named_parameters())
    cfg.custom_hooks = []
    assert base_momentum(cfg) == 0.996  # the hook's own default
