"""The CSRE demo configs (``make demo-csre``): the demo CTR-GCN plus only
the CSRE head, STFD sized for the demo, and the same initial weights as
the baseline under the same seed."""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

import mmskelcl  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STREAMS = ('j', 'b', 'jm', 'bm')


def _cfg(name: str) -> Config:
    return Config.fromfile(osp.join(REPO, 'configs', 'demo', f'{name}.py'))


@pytest.mark.parametrize('stream', STREAMS)
def test_differs_from_the_baseline_only_by_the_plug_in(stream):
    base = _cfg(f'ctrgcn_{stream}').to_dict()
    csre = _cfg(f'csre_ctrgcn_{stream}').to_dict()
    model = csre.pop('model')
    assert model.pop('type') == 'AuxRecognizerGCN'
    assert model.pop('num_frames') == base['clip_len'] == 32
    heads = model.pop('aux_heads')
    assert heads == dict(csre=dict(type='CSREHead', sampler=dict(
        num_pos=16, num_neg=64)))
    base_model = base.pop('model')
    base_model.pop('type')
    assert model == base_model
    assert csre.pop('custom_hooks') == [dict(type='MemoryBankHook')]
    assert base.pop('custom_hooks', []) == []
    assert csre == base


def test_stfd_sizes_and_same_initial_weights():
    init_default_scope('mmaction')
    models = {}
    for name in ('ctrgcn_j', 'csre_ctrgcn_j'):
        set_random_seed(1)
        models[name] = MODELS.build(_cfg(name).model)
        models[name].init_weights()
    base, csre = models['ctrgcn_j'], models['csre_ctrgcn_j']
    stfd = csre.aux_heads.csre.stfd
    # C 128 / r 8 = 16 channels; sigma reads 16 x 17 joints, zeta 16 x 8
    assert stfd.proj['spatial'].in_features == 16 * 17
    assert stfd.proj['temporal'].in_features == 16 * 8
    sampler = csre.aux_heads.csre.contrast['spatial'].sampler
    assert (sampler.num_pos, sampler.num_neg) == (16, 64)
    ref = base.state_dict()
    shared = {k: v for k, v in csre.state_dict().items()
              if not k.startswith('aux_heads.')}
    assert set(shared) == set(ref)
    for k, v in ref.items():
        assert torch.equal(shared[k], v), k
    # and the seed matters (the comparison is not vacuous)
    set_random_seed(2)
    other = MODELS.build(_cfg('ctrgcn_j').model)
    other.init_weights()
    assert not torch.equal(other.state_dict()['cls_head.fc.weight'],
                           ref['cls_head.fc.weight'])
