"""``--arch hyperformer_csre`` keeps the released STFD (``std.*``): the
converted weights give the released ``STD_unit`` features and fit the
``csre_hyperformer_*`` NTU model."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config

from mmskelcl.models.convert import convert_state_dict
from mmskelcl.models.heads.csre_head import STFD

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
C, T, V, D = 216, 16, 25, 256  # Hyperformer NTU: 64 frames -> T' 16
REL = C // 8


def released_std(rng=0):
    """Random tensors under the released ``STD_unit`` names."""
    g = torch.Generator().manual_seed(rng)
    shapes = {'conv1.weight': (REL, C, 1), 'conv1.bias': (REL, ),
              'convs.weight': (D, REL * V), 'convs.bias': (D, ),
              'conv2.weight': (REL, C, 1), 'conv2.bias': (REL, ),
              'convt.weight': (D, REL * T), 'convt.bias': (D, )}
    return {f'std.{k}': torch.randn(s, generator=g) * 0.1
            for k, s in shapes.items()}


def released_forward(sd, x):
    """``STD_unit.forward`` of zhshj0110/CSRE model/Hyperformer.py on
    ``x (N*M, C, T', V)``."""
    n = x.shape[0]
    x_s = F.conv1d(x.mean(-2), sd['std.conv1.weight'], sd['std.conv1.bias'])
    x_s = F.linear(x_s.view(n, -1), sd['std.convs.weight'],
                   sd['std.convs.bias'])
    x_t = F.conv1d(x.mean(-1), sd['std.conv2.weight'], sd['std.conv2.bias'])
    x_t = F.linear(x_t.view(n, -1), sd['std.convt.weight'],
                   sd['std.convt.bias'])
    return x_s, x_t


def test_converted_stfd_gives_the_released_features():
    sd = released_std()
    sd['fc.bias'] = torch.zeros(60)  # the classifier is renamed as before
    out = convert_state_dict('hyperformer_csre', sd)
    assert out['cls_head.fc.bias'] is sd['fc.bias']
    prefix = 'aux_heads.csre.stfd.'
    stfd = STFD(C, T, V)
    stfd.load_state_dict({k[len(prefix):]: v for k, v in out.items()
                          if k.startswith(prefix)}, strict=True)
    x = torch.randn(3, 1, C, T, V)
    with torch.no_grad():
        got = stfd(x)
    want_s, want_t = released_forward(sd, x[:, 0])
    torch.testing.assert_close(got['spatial'], want_s)
    torch.testing.assert_close(got['temporal'], want_t)
    # the plain converter drops the branch, with a warning
    with pytest.warns(UserWarning, match='dropped 8 CSRE STFD'):
        assert set(convert_state_dict('hyperformer', sd)) == {
            'cls_head.fc.bias'}


def test_converted_stfd_fits_the_ntu_csre_hyperformer_model():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/ntu60_xsub/csre_hyperformer_j.py'))
    model = MODELS.build(copy.deepcopy(cfg.model))
    ours = model.state_dict()
    out = convert_state_dict('hyperformer_csre', released_std())
    assert len(out) == 8
    for key, value in out.items():
        assert ours[key].shape == value.shape, key
    assert not {k for k in ours if '.stfd.' in k} - set(out)
    with pytest.raises(KeyError, match='std.extra.weight'):
        convert_state_dict('hyperformer_csre',
                           {'std.extra.weight': torch.zeros(1)})
