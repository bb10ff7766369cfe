"""Paired comparisons: under one seed a method config and its baseline start
from identical backbone and classifier weights, and the random stream after
building the model is the same (so data order and dropout match too)."""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import set_random_seed

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


def _build(dataset, name, seed=0):
    cfg = Config.fromfile(osp.join(REPO, 'configs', dataset, f'{name}.py'))
    set_random_seed(seed)  # what the Runner does before building the model
    model = MODELS.build(cfg.model)
    model.init_weights()  # what runner.train() does
    after = torch.rand(4)  # the next draws of the training run
    state = {k: v for k, v in model.state_dict().items()
             if k.startswith(('backbone.', 'cls_head.'))}
    return state, after


@pytest.mark.parametrize('dataset,method', [
    ('nwucla', 'cacl_ctrgcn'), ('nwucla', 'skeletongcl_ctrgcn'),
    ('nwucla', 'frhead_ctrgcn'), ('finegym', 'frhead_ctrgcn'),
    ('nwucla', 'csre_ctrgcn'), ('nwucla', 'cacl_frhead_csre_ctrgcn'),
])
def test_method_and_baseline_start_identical(dataset, method):
    base, base_next = _build(dataset, 'ctrgcn_j')
    meth, meth_next = _build(dataset, f'{method}_j')
    assert base.keys() == meth.keys()
    for k in base:
        assert torch.equal(base[k], meth[k]), k
    assert torch.equal(base_next, meth_next)
    # and the comparison is not trivially true: another seed differs
    other, _ = _build(dataset, 'ctrgcn_j', seed=1)
    assert not torch.equal(other['cls_head.fc.weight'],
                           base['cls_head.fc.weight'])
