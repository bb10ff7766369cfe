"""STGCNTaps / AAGCNTaps: MMAction2's STGCN / AAGCN plus taps. The plain
forward and the state dict are MMAction2's; the taps have the documented
shapes; FR-Head trains on them from config alone."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

from mmskelcl.models.backbones import AAGCNTaps, STGCNTaps
from mmskelcl.models.utils import supports_taps

T, V = 16, 25
STGCNPP = dict(gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn')
CASES = {
    'stgcn': ('STGCN', 'STGCNTaps', {}),
    'stgcnpp': ('STGCN', 'STGCNTaps', STGCNPP),
    'aagcn': ('AAGCN', 'AAGCNTaps', {}),
}
# documented tap points: (channels, frames) of blocks 1, 5, 8, 10
TAP_SHAPES = dict(block1=(64, T), block5=(128, T // 2), block8=(256, T // 4),
                  block10=(256, T // 4))


def _pair(case, **extra):
    plain_type, tapped_type, kwargs = CASES[case]
    cfg = dict(graph_cfg=dict(layout='nturgb+d', mode='spatial'), **kwargs,
               **extra)
    torch.manual_seed(0)
    plain = MODELS.build(dict(type=plain_type, **cfg))
    tapped = MODELS.build(dict(type=tapped_type, **cfg))
    tapped.load_state_dict(plain.state_dict(), strict=True)
    return plain.eval(), tapped.eval()


@pytest.mark.parametrize('case', list(CASES))
def test_plain_forward_and_state_dict_are_mmaction2s(case):
    plain, tapped = _pair(case)
    assert supports_taps(tapped) and not supports_taps(plain)
    assert list(tapped.state_dict()) == list(plain.state_dict())
    # a checkpoint of the tapped backbone loads strictly into MMAction2's
    plain.load_state_dict(tapped.state_dict(), strict=True)
    x = torch.randn(2, 2, T, V, 3)
    with torch.no_grad():
        assert torch.equal(tapped(x), plain(x))
        feat, taps = tapped(x, taps=tuple(TAP_SHAPES))
        assert torch.equal(feat, plain(x))
        assert torch.equal(tapped(x), plain(x))  # the hooks are gone
    assert tapped.available_taps == tuple(
        f'block{i}' for i in range(1, 11)) + ('final', )
    assert set(taps) == set(TAP_SHAPES)
    for name, (c, t) in TAP_SHAPES.items():
        assert taps[name].shape == (2, 2, c, t, V), name
    assert torch.equal(taps['block10'], feat)


def test_taps_are_block_outputs():
    _, tapped = _pair('stgcnpp')
    x = torch.randn(2, 2, T, V, 3)
    seen = []
    hook = tapped.gcn[4].register_forward_hook(
        lambda m, a, out: seen.append(out.clone()))
    with torch.no_grad():
        _, taps = tapped(x, taps=('block5', ))
    hook.remove()
    assert torch.equal(taps['block5'], seen[0].view(2, 2, *seen[0].shape[1:]))


def test_numbering_without_a_first_block():
    """in_channels == base_channels: MMAction2 builds stages 2..10 only."""
    tapped = STGCNTaps(graph_cfg=dict(layout='coco', mode='stgcn_spatial'),
                       in_channels=8, base_channels=8)
    assert tapped.available_taps == tuple(
        f'block{i}' for i in range(2, 11)) + ('final', )
    with pytest.raises(ValueError, match='block1'):
        tapped(torch.randn(1, 1, 8, 17, 8), taps=('block1', ))
    a = AAGCNTaps(graph_cfg=dict(layout='coco', mode='spatial'),
                  out_taps=('block5', ))
    assert a.out_taps == ('block5', )


@pytest.mark.parametrize('case', ['stgcnpp', 'aagcn'])
def test_frhead_on_mmaction2_backbones_from_config(case):
    _, tapped_type, kwargs = CASES[case]
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='AuxRecognizerGCN',
             backbone=dict(type=tapped_type,
                           graph_cfg=dict(layout='nturgb+d',
                                          mode='spatial'), **kwargs),
             cls_head=dict(type='GCNHead', num_classes=4, in_channels=256),
             aux_heads=dict(fr=dict(type='FRHead', num_classes=4,
                                    num_frames=T, num_joints=V))))
    assert model.aux_taps == tuple(TAP_SHAPES)
    samples = []
    for i in range(4):
        ds = ActionDataSample().set_gt_label(i % 4)
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
    batch = dict(inputs=[torch.randn(1, 2, T, V, 3) for _ in range(4)],
                 data_samples=samples)
    log = model.train_step(batch, OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01)))
    assert {f'loss_cfr_{t}' for t in TAP_SHAPES} <= set(log)
    # the trained weights load into the plain MMAction2 recognizer
    plain_type = CASES[case][0]
    plain = MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type=plain_type,
                           graph_cfg=dict(layout='nturgb+d',
                                          mode='spatial'), **kwargs),
             cls_head=dict(type='GCNHead', num_classes=4, in_channels=256)))
    _, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    assert all(k.startswith('aux_heads.') for k in unexpected)
    model.eval()
    plain.eval()
    with torch.no_grad():
        a = model.test_step(batch)
        b = plain.test_step(batch)
    for x, y in zip(a, b):
        assert torch.equal(x.pred_score, y.pred_score)


def test_project_layout_names_build_the_same_graph():
    """'nwucla' by name gives the graph of the spelled-out dict (what the
    ST-GCN++ NW-UCLA configs pass), and the caller's dict is not changed."""
    from mmskelcl.models.backbones import STGCNTaps
    from mmskelcl.structures.layouts import NWUCLA_LAYOUT
    cfg = dict(layout='nwucla', mode='spatial')
    named = STGCNTaps(graph_cfg=cfg, base_channels=8, num_stages=2)
    spelled = STGCNTaps(graph_cfg=dict(layout=dict(NWUCLA_LAYOUT),
                                       mode='spatial'),
                        base_channels=8, num_stages=2)
    assert cfg == dict(layout='nwucla', mode='spatial')
    assert named.graph.A.shape == (3, 20, 20)
    assert (named.graph.A == spelled.graph.A).all()
    # hand check: joint 2 (shoulder centre) is joined to 1, 3, 4 and 8
    adj = (named.graph.A.sum(0) > 0)
    assert set(adj[2].nonzero()[0].tolist()) == {1, 2, 3, 4, 8}
