"""CSRE: STFD against a hand computation (pooling axes, channel-major
flatten, person mean), sizes from the taps of every encoder on NTU and
NW-UCLA, the branch / weight switches, and test-time removal."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmskelcl.models.heads import STFD
from mmskelcl.models.memory import ContrastiveSampler


@pytest.fixture(autouse=True)
def _epoch0():
    MessageHub.get_current_instance().update_info('epoch', 0)
    yield
    MessageHub.get_current_instance().update_info('epoch', 0)


def _loops(stfd, x, weights=None):
    """STFD written out with Python loops over persons, joints, frames."""
    N, M, C, T, V = x.shape
    phi, sigma = stfd.reduce['spatial'], stfd.proj['spatial']
    theta, zeta = stfd.reduce['temporal'], stfd.proj['temporal']
    rel = phi.out_channels
    out = {'spatial': torch.zeros(N, sigma.out_features, dtype=x.dtype),
           'temporal': torch.zeros(N, zeta.out_features, dtype=x.dtype)}
    for n in range(N):
        for m in range(M):
            w = 1 / M if weights is None else weights[n][m]
            xs = [[sum(x[n, m, c, t, v] for t in range(T)) / T
                   for v in range(V)] for c in range(C)]
            xt = [[sum(x[n, m, c, t, v] for v in range(V)) / V
                   for t in range(T)] for c in range(C)]
            for key, pooled, red, proj, size in (
                    ('spatial', xs, phi, sigma, V),
                    ('temporal', xt, theta, zeta, T)):
                flat = []
                for k in range(rel):  # channel-major: index k * size + p
                    for p in range(size):
                        flat.append(red.bias[k] + sum(
                            red.weight[k, c, 0] * pooled[c][p]
                            for c in range(C)))
                vec = torch.stack(flat)
                out[key][n] += w * (proj.weight @ vec + proj.bias)
    return out


def test_stfd_equals_the_hand_computation():
    torch.manual_seed(0)
    stfd = STFD(16, num_frames=3, num_joints=4, feat_dim=5,
                reduction=8).double()
    assert stfd.reduce['spatial'].out_channels == 2
    assert stfd.proj['spatial'].in_features == 2 * 4
    assert stfd.proj['temporal'].in_features == 2 * 3
    x = torch.randn(2, 2, 16, 3, 4, dtype=torch.float64)
    with torch.no_grad():
        got = stfd(x)
        ref = _loops(stfd, x)
        for k in ('spatial', 'temporal'):
            torch.testing.assert_close(got[k], ref[k])
        # a weighted person mean (only the first person of sample 1)
        w = torch.tensor([[.5, .5], [1., 0.]], dtype=torch.float64)
        got = stfd(x, w)
        ref = _loops(stfd, x, w.tolist())
        for k in ('spatial', 'temporal'):
            torch.testing.assert_close(got[k], ref[k])


def test_stfd_is_linear_and_released_init():
    torch.manual_seed(0)
    stfd = STFD(256, 16, 25)
    x = torch.randn(3, 2, 256, 16, 25)
    y = torch.randn(3, 2, 256, 16, 25)
    with torch.no_grad():
        a, b, ab = stfd(x), stfd(y), stfd(x + y)
        zero = stfd(torch.zeros_like(x))
    for k in a:  # affine: f(x + y) = f(x) + f(y) - f(0)
        torch.testing.assert_close(ab[k], a[k] + b[k] - zero[k],
                                   atol=1e-4, rtol=1e-4)
    fc = stfd.proj['spatial']
    assert fc.in_features == 32 * 25 and fc.out_features == 256
    assert float(fc.bias.abs().sum()) == 0
    # kaiming normal, fan_out = 256: std sqrt(2 / 256)
    assert abs(float(fc.weight.std()) / (2 / 256)**0.5 - 1) < 0.05


def _recognizer(backbone, num_frames, **head):
    return MODELS.build(
        dict(type='AuxRecognizerGCN', backbone=backbone,
             num_frames=num_frames,
             cls_head=dict(type='GCNHead', num_classes=4, in_channels=256),
             aux_heads=dict(csre=dict(type='CSREHead', **head))))


@pytest.mark.parametrize('layout,persons,frames,sigma,zeta', [
    ('nturgb+d', 2, 64, 800, 512),  # spec 2.2: T' 16, V 25
    ('nwucla', 1, 52, 640, 416),  # T' 13, V 20 (released code breaks)
])
def test_sizes_from_the_taps_not_hard_coded(layout, persons, frames, sigma,
                                            zeta):
    model = _recognizer(dict(type='CTRGCN', graph_cfg=dict(layout=layout),
                             num_person=persons), frames)
    stfd = model.aux_heads['csre'].stfd
    assert stfd.proj['spatial'].in_features == sigma
    assert stfd.proj['temporal'].in_features == zeta


def test_hyperformer_sizes_as_in_the_spec():
    if MODELS.get('Hyperformer') is None:
        pytest.fail('Hyperformer is not registered')
    ntu = [0, 4, 2, 2, 2, 2, 1, 1, 2, 2, 1, 1, 2, 3, 3, 3, 2, 3, 3, 3, 1, 0,
           1, 0, 1]
    ucla = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
    for layout, parts, frames, sizes in (
            ('nturgb+d', ntu, 64, (675, 432)), ('nwucla', ucla, 52,
                                                (540, 351))):
        backbone = MODELS.build(dict(type='Hyperformer',
                                     graph_cfg=dict(layout=layout),
                                     joint_label=parts,
                                     num_person=2 if layout == 'nturgb+d'
                                     else 1))
        info = backbone.tap_info(frames)['final']
        head = MODELS.build(dict(type='CSREHead', tap_info=backbone.tap_info(
            frames)))
        assert info.channels == 216
        assert (head.stfd.proj['spatial'].in_features,
                head.stfd.proj['temporal'].in_features) == sizes


TINY = dict(type='CTRGCN', graph_cfg=dict(layout='coco'), num_person=2,
            base_channels=16, num_stages=3, inflate_stages=(3, ),
            down_stages=(3, ))


def _batch(n=6, t=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(1, 2, t, 17, 3, generator=g) for _ in range(n)]
    for x in inputs[::2]:
        x[:, 1] = 0  # zero-padded second person
    samples = []
    for i in range(n):
        ds = ActionDataSample().set_gt_label(i % 2)
        ds.set_metainfo(dict(sample_idx=i, frame_dir=f'v{i}'))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def _tiny(**head):
    head.setdefault('sampler', dict(num_pos=2, num_neg=2))
    head.setdefault('bank', dict(size=6))
    return MODELS.build(
        dict(type='AuxRecognizerGCN', backbone=TINY, num_frames=8,
             cls_head=dict(type='GCNHead', num_classes=2, in_channels=32),
             aux_heads=dict(csre=dict(type='CSREHead', **head))))


@pytest.mark.parametrize('branches', [('spatial', ), ('temporal', ),
                                      ('global', ), ('spatial', 'temporal'),
                                      ('spatial', 'temporal', 'global')])
def test_branch_switches_give_their_losses_and_banks(branches):
    model = _tiny(branches=branches)
    head = model.aux_heads['csre']
    assert set(head.contrast) == set(branches)
    log = model.train_step(_batch(), OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)))
    assert {k for k in log if k.startswith('loss_csre')} == {
        f'loss_csre_{b}' for b in branches}
    for b in branches:
        assert bool(head.contrast[b].bank.valid.all())
    banks = [head.contrast[b].bank.feats for b in branches]
    if len(banks) > 1:
        assert not torch.equal(banks[0], banks[1])


def test_loss_weight_default_is_the_released_half():
    losses = {}
    for w in (None, 1.0):
        torch.manual_seed(0)
        model = _tiny(loss_weights=None if w is None else dict(
            spatial=w, temporal=w))
        model.train()
        with torch.no_grad():
            out = model.loss(torch.stack(_batch()['inputs']),
                             _batch()['data_samples'])
        losses[w] = out
    for b in ('spatial', 'temporal'):
        assert float(losses[1.0][f'loss_csre_{b}']) > 0
        assert float(losses[None][f'loss_csre_{b}']) == pytest.approx(
            0.5 * float(losses[1.0][f'loss_csre_{b}']), rel=1e-5)


def test_valid_person_mean_ignores_zero_padded_persons():
    torch.manual_seed(0)
    model = _tiny(person_mean='valid')
    head = model.aux_heads['csre']
    batch = _batch()
    x = torch.stack(batch['inputs'])[:, 0]
    _, taps = model.backbone(x, taps=('final', ))
    got = head.features(taps, x)
    # sample 0 has a zero second person: its feature is person 0's alone
    one = head.stfd(taps['final'][:1, :1])
    torch.testing.assert_close(got['spatial'][0],
                               torch.nn.functional.normalize(
                                   one['spatial'], dim=1)[0])
    all_mean = model.aux_heads['csre'].stfd(taps['final'])
    assert not torch.allclose(
        torch.nn.functional.normalize(all_mean['spatial'], dim=1)[0],
        got['spatial'][0])


def test_random_plus_hard_positives_on_a_hand_built_bank():
    """Anchor label 0; bank: class 0 at sims .9 .1 .5 .3 .7, class 1 at .2 .
    Hard positives (lowest): .1 .3; random ones from the rest (.9 .5 .7)."""
    sim = torch.tensor([[.9, .1, .5, .3, .7, .2]])
    bank_labels = torch.tensor([0, 0, 0, 0, 0, 1])
    valid = torch.ones(6, dtype=torch.bool)
    s = ContrastiveSampler(num_pos=2, num_neg=1, pos_strategy='random+hard',
                           neg_strategy='H')
    torch.manual_seed(0)
    pairs = s(sim, torch.tensor([0]), bank_labels, valid)
    idx = pairs.pos_idx[0].tolist()
    assert sorted(idx[:2]) == [1, 3]
    assert set(idx[2:]) <= {0, 2, 4} and len(set(idx[2:])) == 2
    assert bool(pairs.pos_mask.all())
    assert pairs.neg_sets[0][0].tolist() == [[5]]


def test_checkpoint_loads_into_the_plain_encoder_with_identical_logits():
    torch.manual_seed(0)
    model = _tiny()
    model.train_step(_batch(), OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)))
    plain = MODELS.build(dict(type='RecognizerGCN', backbone=TINY,
                              cls_head=dict(type='GCNHead', num_classes=2,
                                            in_channels=32)))
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing and all(k.startswith('aux_heads.')
                               for k in unexpected)
    model.eval()
    plain.eval()
    x = torch.stack(_batch(seed=1)['inputs'])
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'),
                                   plain(x, mode='tensor'), rtol=0, atol=0)


def test_banks_survive_a_state_dict_round_trip():
    torch.manual_seed(0)
    model = _tiny(bank=None)  # unsized: the hook (or a checkpoint) sizes
    for u in model.aux_heads['csre'].contrast.values():
        u.bank.resize(6)
    model.train_step(_batch(), OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)))
    new = _tiny(bank=None)
    new.load_state_dict(model.state_dict())
    for b, u in model.aux_heads['csre'].contrast.items():
        for k, v in u.bank.state_dict().items():
            assert torch.equal(v, new.aux_heads['csre'].contrast[b].bank
                               .state_dict()[k]), (b, k)
