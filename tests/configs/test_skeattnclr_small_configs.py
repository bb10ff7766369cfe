"""The demo and NW-UCLA SkeAttnCLR configs: body parts that partition the
layout, preprocessing joints that mean the same body points as the NTU
release's, a pretraining step on the real demo pipeline, and a linear
probe that is the pretraining's backbone."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmskelcl  # noqa: F401
from mmskelcl.utils.demo_data import generate_demo_dataset
from mmskelcl.structures.layouts import NUM_JOINTS, SYMMETRIC_BONES

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _cfg(folder, kind):
    return Config.fromfile(osp.join(
        REPO, 'configs', folder, f'skeattnclr_stgcn_j_{kind}.py'))


@pytest.mark.parametrize('folder,layout', [('demo', 'coco'),
                                           ('nwucla', 'nwucla')])
def test_parts_partition_the_layout(folder, layout):
    cfg = _cfg(folder, 'pretrain')
    parts = cfg.model.mix.parts
    joints = sorted(j for p in parts for j in p)
    assert joints == list(range(NUM_JOINTS[layout]))  # each joint once
    assert cfg.model.layout == layout
    assert cfg.model.backbone.graph_cfg.layout == layout
    lin = _cfg(folder, 'linear')
    assert lin.model.backbone.graph_cfg.layout == layout
    # probe and pretraining see the same preprocessing and width
    assert (lin.model.backbone.base_channels ==
            cfg.model.backbone.base_channels)
    for a, b in zip(lin.train_dataloader.dataset.pipeline,
                    cfg.val_dataloader.dataset.pipeline):
        if a['type'] == 'GenStreamFeat':
            break
        assert a == b


def test_nwucla_preprocessing_joints():
    cfg = _cfg('nwucla', 'pretrain')
    pre = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    # the aligned pair is NW-UCLA's shoulder pair (left 4, right 8)
    pair = (pre['AlignShoulders']['right'], pre['AlignShoulders']['left'])
    assert pair == SYMMETRIC_BONES['nwucla'][0] == (4, 8)
    # centre: the shoulder centre, neighbour of both shoulders and head
    from mmskelcl.structures.layouts import bone_pairs
    centre = pre['CenterJointPerFrame']['joint']
    nbrs = {a for a, b in bone_pairs('nwucla') if b == centre} | {
        b for a, b in bone_pairs('nwucla') if a == centre}
    assert {3, 4, 8} <= nbrs


def test_demo_pretraining_step_on_the_demo_pipeline(tmp_path):
    ann = generate_demo_dataset(str(tmp_path / 'demo.pkl'), num_pairs=2,
                                clips_per_class=4, num_subjects=2,
                                val_subjects=1)
    cfg = _cfg('demo', 'pretrain')
    cfg.train_dataloader.dataset.ann_file = ann
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)
    batch = pseudo_collate([ds[i] for i in range(4)])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(batch, training=True)
    # two views of 32 frames, 1 person, 17 COCO joints, x y score
    assert data['inputs'].shape == (4, 2, 1, 32, 17, 3)
    v0, v1 = data['inputs'][:, 0], data['inputs'][:, 1]
    assert not torch.allclose(v0, v1)  # independent augmentations
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(torch.isfinite(v).all() for v in losses.values())
    # global InfoNCE over 1 positive + the 256-key queue at init ~ log 257
    assert abs(float(losses['loss_global']) - np.log(257)) < 1.0


def test_nwucla_pretraining_step_at_full_size():
    cfg = _cfg('nwucla', 'pretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    losses = model.loss(torch.randn(2, 2, 1, 52, 20, 3))
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert model.queue.feats.shape == (512, 128)
