"""BiGRU encoder against torch.nn.GRU with the same weights: the
bidirectional mode is one ``nn.GRU(bidirectional=True)`` call, the released
mode is the release's frame-by-frame loop (one-frame calls, hidden state
carried). The input vector is built here from the release's
``(N, C, T, V, M)`` layout. Sizes, last-step output, frozen stages."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

NTU = dict(layout='nturgb+d')


def _pair(mode, H=6, layers=2, seed=0):
    """Our BiGRU and an ``nn.GRU`` holding the same weights."""
    torch.manual_seed(seed)
    ours = MODELS.build(dict(type='BiGRU', graph_cfg=NTU, hidden_channels=H,
                             num_layers=layers, mode=mode))
    ref = nn.GRU(150, H, layers, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for i, layer in enumerate(ours.layers):
            for d, suffix in (('fwd', ''), ('bwd', '_reverse')):
                for w in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
                    getattr(ref, f'{w}_l{i}{suffix}').copy_(
                        getattr(layer[d], f'{w}_l0'))
        bn = ours.data_bn
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_()
    return ours.eval(), ref


def _release_input(ours, x):
    """``(N, M, T, V, C)`` -> the release's per-frame vector: its tensor is
    ``(N, C, T, V, M)``, flattened after ``permute(0, 2, 3, 1, 4)``, then
    batch-normalised per feature."""
    N, M, T, V, C = x.shape
    rel = x.permute(0, 4, 2, 3, 1)  # (N, C, T, V, M)
    vec = rel.permute(0, 2, 3, 1, 4).reshape(N, T, V * C * M)
    bn = ours.data_bn
    return (vec - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) \
        * bn.weight + bn.bias


def test_bidirectional_mode_is_torch_bigru():
    ours, ref = _pair('bidirectional')
    x = torch.randn(3, 2, 7, 25, 3)
    with torch.no_grad():
        out = ours(x)
        expect = ref(_release_input(ours, x))[0]  # (N, T, 2H)
    assert out.shape == (3, 1, 12, 7, 1)
    torch.testing.assert_close(out[:, 0, :, :, 0].transpose(1, 2), expect,
                               rtol=1e-5, atol=1e-6)


def test_released_mode_is_the_frame_by_frame_loop():
    ours, ref = _pair('released')
    x = torch.randn(3, 2, 7, 25, 3)
    with torch.no_grad():
        seq, h, steps = _release_input(ours, x), None, []
        for t in range(seq.shape[1]):  # the release's EncoderRNN loop
            y, h = ref(seq[:, t:t + 1], h)
            steps.append(y)
        expect = torch.cat(steps, 1)
        out = ours(x)[:, 0, :, :, 0].transpose(1, 2)
        true_bi = ref(seq)[0]
    torch.testing.assert_close(out, expect, rtol=1e-5, atol=1e-6)
    # not a true BiGRU: its reverse direction also ran forward in time
    assert (out - true_bi).abs().max() > 1e-2


def test_last_step_output_and_released_size():
    ours, _ = _pair('released')
    last = MODELS.build(dict(type='BiGRU', graph_cfg=NTU, hidden_channels=6,
                             num_layers=2, output='last'))
    last.load_state_dict(ours.state_dict())
    last.eval()
    x = torch.randn(2, 2, 5, 25, 3)
    with torch.no_grad():
        assert torch.equal(last(x), ours(x)[:, :, :, -1:])
    full = MODELS.build(dict(type='BiGRU', graph_cfg=NTU))
    H, D = 1024, 150  # released: 3 layers of 1024 units, input 25 * 3 * 2

    def gru(inp):  # one direction: 3 gates, weights and two biases
        return 3 * H * (inp + H) + 2 * 3 * H

    expect = 2 * D + 2 * (gru(D) + 2 * gru(2 * H))
    assert sum(p.numel() for p in full.parameters()) == expect
    assert full.out_channels == 2048


def test_frozen_stages_and_norm_eval():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='BiGRU', graph_cfg=NTU, hidden_channels=4,
                              num_layers=3, frozen_stages=1))
    model.train()
    model(torch.randn(2, 2, 5, 25, 3)).square().mean().backward()
    frozen = [model.data_bn, model.layers[0]]
    assert all(p.grad is None and not p.requires_grad
               for m in frozen for p in m.parameters())
    assert all(p.grad is not None for m in model.layers[1:]
               for p in m.parameters())
    assert not model.data_bn.training
    model = MODELS.build(dict(type='BiGRU', graph_cfg=NTU, hidden_channels=4,
                              norm_eval=True))
    model.train()
    before = model.data_bn.running_mean.clone()
    model(torch.randn(2, 2, 5, 25, 3))
    assert torch.equal(before, model.data_bn.running_mean)


def test_refusals_name_the_fix():
    model = MODELS.build(dict(type='BiGRU', graph_cfg=NTU, hidden_channels=4))
    with pytest.raises(ValueError, match='V \\* C \\* M'):
        model(torch.randn(1, 1, 5, 25, 3))
    with pytest.raises(ValueError, match='mode must be'):
        MODELS.build(dict(type='BiGRU', graph_cfg=NTU, mode='reverse'))
    with pytest.raises(ValueError, match='frozen_stages'):
        MODELS.build(dict(type='BiGRU', graph_cfg=NTU, hidden_channels=4,
                          frozen_stages=5))
