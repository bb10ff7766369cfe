"""FR-Head's spatial-temporal decoupling (released ``ST_RenovateNet``) on
integer inputs, against loops written out here: persons are averaged
first, the spatial branch pools time, the temporal branch pools joints,
then a 1x1 conv + BN + ReLU and a flatten in (channel, position) order."""
import itertools

import pytest
import torch

from mmskelcl.models.heads.frhead import FRStage

N, M, C, T, V = 2, 2, 2, 3, 2
HIDDEN = 6  # spatial width 6 // V = 3, temporal width 6 // T = 2


def _x():
    """Integer-valued taps (N, M, C, T, V) with persons that differ."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(-4, 5, (N, M, C, T, V), generator=g).double()


def _set_branch(seq, weight, bias):
    """1x1 conv := (weight, bias); BN := identity (eval, mean 0, var
    1 - eps, affine 1/0)."""
    conv, bn = seq[0], seq[1]
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(weight)[:, :, None, None])
        conv.bias.copy_(torch.tensor(bias))
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
        bn.weight.fill_(1)
        bn.bias.zero_()


# weights with mixed signs, so that the ReLU clips some outputs and the
# order "person mean, then conv + ReLU" matters
W_S = [[1., -2.], [-1., 0.5], [0.25, 1.]]
B_S = [0.5, -1., 0.]
W_T = [[-1., 1.5], [2., -0.5]]
B_T = [0., 0.25]


def _stage(mode='st'):
    stage = FRStage(in_channels=C, num_frames=T, num_joints=V,
                    num_classes=3, hidden_channels=HIDDEN, mode=mode)
    stage.double().eval()
    if 'spatial' in stage.squeeze:
        _set_branch(stage.squeeze['spatial'], W_S, B_S)
    if 'temporal' in stage.squeeze:
        _set_branch(stage.squeeze['temporal'], W_T, B_T)
    return stage


def _hand(x):
    """Spatial ``(N, 3 * V)`` and temporal ``(N, 2 * T)`` by loops."""
    x = x.tolist()
    spatial, temporal = [], []
    for n in range(N):
        s_row = []
        for w, v in itertools.product(range(len(W_S)), range(V)):
            acc = B_S[w]
            for c in range(C):
                mean = sum(x[n][m][c][t][v] for m in range(M)
                           for t in range(T)) / (M * T)
                acc += W_S[w][c] * mean
            s_row.append(max(acc, 0.))
        t_row = []
        for w, t in itertools.product(range(len(W_T)), range(T)):
            acc = B_T[w]
            for c in range(C):
                mean = sum(x[n][m][c][t][v] for m in range(M)
                           for v in range(V)) / (M * V)
                acc += W_T[w][c] * mean
            t_row.append(max(acc, 0.))
        spatial.append(s_row)
        temporal.append(t_row)
    return (torch.tensor(spatial, dtype=torch.float64),
            torch.tensor(temporal, dtype=torch.float64))


def test_st_decoupling_matches_the_hand_computation():
    x = _x()
    feats = _stage().features(x)
    spatial, temporal = _hand(x)
    assert set(feats) == {'spatial', 'temporal'}
    assert feats['spatial'].shape == (N, 3 * V)
    assert feats['temporal'].shape == (N, 2 * T)
    torch.testing.assert_close(feats['spatial'], spatial, rtol=0,
                               atol=1e-12)
    torch.testing.assert_close(feats['temporal'], temporal, rtol=0,
                               atol=1e-12)
    # the ReLU is active on both branches (the order of mean and ReLU is
    # observable) and the person mean matters
    assert (spatial == 0).any() and (spatial > 0).any()
    assert (temporal == 0).any() and (temporal > 0).any()
    one_person = _stage().features(x[:, :1].repeat(1, M, 1, 1, 1))
    assert not torch.allclose(one_person['spatial'], spatial)


@pytest.mark.parametrize('mode', ['spatial', 'temporal'])
def test_single_branch_modes(mode):
    x = _x()
    feats = _stage(mode).features(x)
    spatial, temporal = _hand(x)
    assert set(feats) == {mode}
    torch.testing.assert_close(
        feats[mode], spatial if mode == 'spatial' else temporal, rtol=0,
        atol=1e-12)


def test_no_decoupling_pools_persons_time_and_joints():
    x = _x()
    feats = _stage('none').features(x)
    xs = x.tolist()
    hand = [[sum(xs[n][m][c][t][v] for m in range(M) for t in range(T)
                 for v in range(V)) / (M * T * V) for c in range(C)]
            for n in range(N)]
    assert set(feats) == {'pooled'}
    torch.testing.assert_close(feats['pooled'],
                               torch.tensor(hand, dtype=torch.float64),
                               rtol=0, atol=1e-12)
