"""CFRLoss against the paper's Eq. 8 computed by hand on a batch with known
TP / FN / FP, the prototype momentum rule, never-seen prototypes and the
gradient paths."""
import math

import pytest
import torch

from mmskelcl.models.losses import CFRLoss

# --------------------------------------------------------------------------
# The batch. cl_fc is the identity, so F_i are these unit vectors and every
# cosine is a dot product.
#
#   i   F_i            label  logits          pred  p_i,label
#   0   ( 1.0,  0.0)     0    (2, 0, 0)        0    e^2/(e^2+2)       = .787
#   1   ( 0.8,  0.6)     0    (1, .5, 0)       0    e/(e+e^.5+1)      = .506
#   2   ( 0.0,  1.0)     0    (0, 1, 0)        1
#   3   (-0.6,  0.8)     1    (0, 3, 1)        1    e^3/(1+e^3+e)     = .844
#   4   ( 0.6, -0.8)     2    (1.5, 0, 1)      0
#
# class 0: TP {0, 1}, FN {2}, FP {4};  class 1: TP {3}, FN {}, FP {2};
# class 2: TP {}, FN {4}, FP {}.
# Centres: mu_FN^0 = F2, mu_FP^0 = F4, mu_FP^1 = F2, mu_FN^2 = F4.
#
# Prototypes before (P_old) and after the update with momentum 0.5 (Eq. 3),
# which is what the loss uses:
#   P_0 = .5 (1, 1)  + .5 mean(F0, F1) = .5 (1, 1) + .5 (.9, .3) = (.95, .65)
#   P_1 = .5 (-1, 1) + .5 F3           = (-.8, .9)
#   P_2 = (0, -1)  (no TP: unchanged)
#
# Eq. 6 / 7 terms:
#   anchor 0: phi = 1 - F0.F2 = 1,   psi = 1 + F0.F4 = 1.6
#   anchor 1: phi = 1 - F1.F2 = .4,  psi = 1 + F1.F4 = 1 + (.48 - .48) = 1
#   anchor 3: phi = 0 (class 1 has no FN),  psi = 1 + F3.F2 = 1.8
#   V1 (TP anchors only): anchors 2 and 4 get 0.
#   V0 (every anchor):  anchor 2: phi = 1 - F2.F2 = 0, psi = 1 + F2.F4 = .2;
#                       anchor 4: phi = 1 - F4.F4 = 0, psi = 0 (no FP of 2).
# With a confidence threshold of .6, anchor 1 is no TP (nor FN): it leaves
# P_0 (P_0 = .5 (1, 1) + .5 F0 = (1, .5)) and, in V1, gets no terms.
# --------------------------------------------------------------------------
FEATS = [(1.0, 0.0), (0.8, 0.6), (0.0, 1.0), (-0.6, 0.8), (0.6, -0.8)]
LABELS = [0, 0, 0, 1, 2]
LOGITS = [(2., 0., 0.), (1., .5, 0.), (0., 1., 0.), (0., 3., 1.),
          (1.5, 0., 1.)]
P_OLD = [(1., 1.), (-1., 1.), (0., -1.)]
P_NEW = [(.95, .65), (-.8, .9), (0., -1.)]
P_NEW_THR = [(1., .5), (-.8, .9), (0., -1.)]
TAU = 0.125
ZERO = [0.] * 5
PHI = [1., .4, 0., 0., 0.]
PSI_V1 = [1.6, 1., 0., 1.8, 0.]
PSI_V0 = [1.6, 1., .2, 1.8, 0.]
PHI_THR = [1., 0., 0., 0., 0.]
PSI_THR = [1.6, 0., 0., 1.8, 0.]


def _cos(u, v):
    return sum(a * b for a, b in zip(u, v)) / (
        math.hypot(*u) * math.hypot(*v))


def _softmax(z):
    e = [math.exp(x) for x in z]
    return [x / sum(e) for x in e]


def eq8(phi, psi, protos, coef=1.0, p_map=True):
    """Paper Eq. 8, averaged over the anchors:
    -log(e^a_psi / (e^a_psi + sum_{l!=k} e^{cos(F,P_l)/tau})) - (same, phi),
    a = cos(F_i, P_k)/tau - coef (1 - p_ik) term (coef = alpha / tau = 1
    for the released values)."""
    total = 0.
    for i, k in enumerate(LABELS):
        p = _softmax(LOGITS[i])[k] if p_map else 0.
        c = [_cos(FEATS[i], P) for P in protos]
        neg = sum(math.exp(c[l] / TAU) for l in range(3) if l != k)
        for term in (psi[i], phi[i]):
            a = c[k] / TAU - coef * (1 - p) * term
            total += -math.log(math.exp(a) / (math.exp(a) + neg))
    return total / len(LABELS)


def _cfr(**kwargs):
    kwargs.setdefault('momentum', 0.5)
    cfr = CFRLoss(2, 3, hidden_channels=2, temperature=TAU, **kwargs)
    cfr.double()
    with torch.no_grad():
        cfr.cl_fc.weight.copy_(torch.eye(2))
        cfr.cl_fc.bias.zero_()
        cfr.prototypes.copy_(torch.tensor(P_OLD))
    return cfr


def _batch():
    return (torch.tensor(FEATS, dtype=torch.float64),
            torch.tensor(LOGITS, dtype=torch.float64),
            torch.tensor(LABELS))


def test_masks_are_the_table():
    x, z, y = _batch()
    _, tp, fn, fp, _ = _cfr().masks(z, y, torch.float64)
    as_sets = [lambda m, k=k: set(m[:, k].nonzero().flatten().tolist())
               for k in range(3)]
    assert [f(tp) for f in as_sets] == [{0, 1}, {3}, set()]
    assert [f(fn) for f in as_sets] == [{2}, set(), {4}]
    assert [f(fp) for f in as_sets] == [{4}, {2}, set()]


@pytest.mark.parametrize('kwargs,phi,psi,protos,coef,p_map', [
    (dict(version='V1'), PHI, PSI_V1, P_NEW, 1., True),
    (dict(version='V0'), PHI, PSI_V0, P_NEW, 1., True),
    (dict(version='V1', use_fn=False), ZERO, PSI_V1, P_NEW, 1., True),
    (dict(version='V1', use_fp=False), PHI, ZERO, P_NEW, 1., True),
    (dict(version='V0', use_fn=False, use_fp=False), ZERO, ZERO, P_NEW, 1.,
     True),
    (dict(version='V1', pred_threshold=.6), PHI_THR, PSI_THR, P_NEW_THR, 1.,
     True),
    (dict(version='V1', alpha=.25, use_p_map=False), PHI, PSI_V1, P_NEW, 2.,
     False),
], ids=['V1', 'V0', 'V1-noFN', 'V1-noFP', 'V0-noFN-noFP', 'V1-thr.6',
        'V1-alpha.25-nopmap'])
def test_loss_is_eq8_by_hand(kwargs, phi, psi, protos, coef, p_map):
    cfr = _cfr(**kwargs)
    loss = cfr(*_batch())
    expected = eq8(phi, psi, protos, coef=coef, p_map=p_map)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-10)
    torch.testing.assert_close(cfr.prototypes,
                               torch.tensor(protos, dtype=torch.float64))


def _anchor_loss(i, phi, psi, protos=P_NEW):
    """Both CE terms of Eq. 8 for anchor ``i`` alone (released values)."""
    k = LABELS[i]
    p = _softmax(LOGITS[i])[k]
    c = [_cos(FEATS[i], P) for P in protos]
    neg = sum(math.exp(c[l] / TAU) for l in range(3) if l != k)
    out = 0.
    for term in (psi, phi):
        a = c[k] / TAU - (1 - p) * term
        out += -math.log(math.exp(a) / (math.exp(a) + neg))
    return out


def test_v0_and_v1_differ_only_through_non_tp_anchors():
    """CFRLoss V0 - V1 on the table's batch is exactly the change of the
    one non-TP anchor with a V0 term (anchor 2: psi = .2 in V0, nothing in
    V1; anchor 4, the other non-TP anchor, has no V0 term). TP anchors 0,
    1 and 3 contribute the same in both versions, and both versions make
    the same prototype update."""
    x, z, y = _batch()
    v0, v1 = _cfr(version='V0'), _cfr(version='V1')
    diff = float((v0(x, z, y) - v1(x, z, y)).detach())
    expected = (_anchor_loss(2, 0., .2) - _anchor_loss(2, 0., 0.)) / 5
    assert expected > 0.01
    assert diff == pytest.approx(expected, rel=1e-9)
    torch.testing.assert_close(v0.prototypes, v1.prototypes, rtol=0, atol=0)
    # without the FP term anchor 2 has no V0 term left: the versions agree
    a, b = _cfr(version='V0', use_fp=False), _cfr(version='V1', use_fp=False)
    assert float(a(x, z, y).detach()) == pytest.approx(
        float(b(x, z, y).detach()), rel=1e-12)


def test_prototypes_follow_the_momentum_rule_from_confident_samples():
    cfr = _cfr(pred_threshold=.6)
    x, z, y = _batch()
    cfr(x, z, y)
    # class 0: only anchor 0 is confident (anchor 1 has p = .506 < .6;
    # anchor 2 is FN, anchor 4 FP); class 1: anchor 3; class 2: none
    torch.testing.assert_close(cfr.prototypes,
                               torch.tensor(P_NEW_THR, dtype=torch.float64))
    assert cfr.proto_updates.tolist() == [1., 1., 0.]
    cfr(x, z, y)  # second step: P <- .5 P + .5 mean(F_TP) again
    expected = [(.5 * 1. + .5 * 1., .5 * .5 + .5 * 0.),
                (.5 * -.8 + .5 * -.6, .5 * .9 + .5 * .8), (0., -1.)]
    torch.testing.assert_close(cfr.prototypes,
                               torch.tensor(expected, dtype=torch.float64))
    assert cfr.proto_updates.tolist() == [2., 2., 0.]
    assert not cfr.prototypes.requires_grad


def test_never_seen_prototype_random_policy_is_released_behaviour():
    """'random': class 2's randn prototype is kept and is still a negative
    (changing it changes the loss) and the positive of anchor 4."""
    torch.manual_seed(0)
    cfr = CFRLoss(2, 3, hidden_channels=2, momentum=.5).double()
    init = cfr.prototypes.clone()
    x, z, y = _batch()
    state = {k: v.clone() for k, v in cfr.state_dict().items()}
    loss = cfr(x, z, y)
    assert torch.equal(cfr.prototypes[2], init[2])
    assert cfr.proto_updates[2] == 0
    state['prototypes'][2] = -state['prototypes'][2]
    cfr.load_state_dict(state)
    changed = cfr(x, z, y).detach()
    assert float(changed) != pytest.approx(float(loss.detach()))


def test_never_seen_prototype_mask_policy():
    """'mask': an unseen class is no negative and its anchors drop out."""
    x, z, y = _batch()
    losses = []
    for p2 in [(0., -1.), (5., 3.)]:
        cfr = _cfr(version='V1', unseen='mask')
        with torch.no_grad():
            cfr.prototypes[2] = torch.tensor(p2)
        losses.append(float(cfr(x, z, y).detach()))
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)
    # by hand: Eq. 8 over anchors 0-3 with class 2 removed from the softmax
    total = 0.
    for i in range(4):
        k = LABELS[i]
        p = _softmax(LOGITS[i])[k]
        c = [_cos(FEATS[i], P) for P in P_NEW[:2]]
        neg = math.exp(c[1 - k] / TAU)
        for term in (PSI_V1[i], PHI[i]):
            a = c[k] / TAU - (1 - p) * term
            total += -math.log(math.exp(a) / (math.exp(a) + neg))
    assert losses[0] == pytest.approx(total / 4, rel=1e-10)


def test_mask_policy_with_no_seen_class_gives_zero_with_graph():
    cfr = _cfr(unseen='mask')
    x, z, y = _batch()
    z = -z  # every prediction wrong: no TP, no prototype is ever updated
    x.requires_grad_()
    loss = cfr(x, z, y)
    assert float(loss.detach()) == 0
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def _grads(**kwargs):
    cfr = _cfr(version='V0', **kwargs)
    x, z, y = _batch()
    x.requires_grad_()
    z.requires_grad_()
    loss = cfr(x, z, y)
    loss.backward()
    assert z.grad is None  # logits (masks, p) are detached
    assert not cfr.prototypes.requires_grad
    return float(loss.detach()), x.grad


def test_gradient_through_current_prototype_reaches_tp_features_only():
    loss_a, grad_a = _grads(proto_grad=True)  # released behaviour
    loss_b, grad_b = _grads(proto_grad=False)
    assert loss_a == pytest.approx(loss_b, rel=1e-12)  # value unchanged
    differs = (grad_a - grad_b).abs().sum(1) > 1e-12
    assert differs.tolist() == [True, True, False, True, False]  # TP rows


def test_gradient_through_fn_fp_centres():
    loss_a, grad_a = _grads(center_grad=True)  # released behaviour
    loss_b, grad_b = _grads(center_grad=False)
    assert loss_a == pytest.approx(loss_b, rel=1e-12)
    differs = (grad_a - grad_b).abs().sum(1) > 1e-12
    # the FN/FP samples (2: FN of 0 and FP of 1; 4: FP of 0 and FN of 2)
    assert differs[2] and differs[4]
    assert not differs[3]  # a TP that is no centre member


def test_argument_checks():
    with pytest.raises(ValueError, match='version'):
        CFRLoss(2, 3, version='V2')
    with pytest.raises(ValueError, match='unseen'):
        CFRLoss(2, 3, unseen='zeros')
    x, z, y = _batch()
    with pytest.raises(ValueError, match='num_classes'):
        CFRLoss(2, 4, hidden_channels=2).double()(x, z, y)
