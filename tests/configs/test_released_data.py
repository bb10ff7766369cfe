"""Data and graph of the supervised NTU configs against the releases
(this test reads configs/ on purpose).

* Persons: the released NTU120 preprocessing of CTR-GCN, FR-Head, BlockGCN,
  Hyperformer and InfoGCN (``data/ntu120/seq_transformation.py``,
  ``np.hstack((ske_joints, ske_joints))``) copies a one-person clip's actor
  into the second slot; their NTU60 script pads zeros, as do 2s-AGCN's and
  HCN's own NTU data generators.
* InfoGCN's NTU input is body-aligned (``AlignSkeleton`` after the
  centring; tests/datasets/test_align_skeleton.py checks the rule).
* Graph: CTR-GCN's ``graph/ntu_rgb_d.py`` (FR-Head's and SkeletonGCL's are
  the same file), written out below, with its ``spatial`` adjacency
  ``[I, normalize_digraph(inward), normalize_digraph(outward)]``.
"""
import copy
import functools
import glob
import os.path as osp
import pickle
import re

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NTU = ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset')
# encoders whose released NTU120 data copies the lone actor (stgcnpp: this
# project's comparison on the CTR-GCN data)
COPYING = ('ctrgcn', 'blockgcn', 'hyperformer', 'infogcn', 'stgcnpp')
# CTR-GCN graph/ntu_rgb_d.py inward_ori_index (1-based), as released
RELEASED_NTU_INWARD = [
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
    (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
    (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8),
    (24, 25), (25, 12)]


@functools.lru_cache(maxsize=None)
def _load(path):
    return Config.fromfile(path)


def _cfg(name):
    return copy.deepcopy(_load(osp.join(REPO, 'configs', name)))


def _encoder(path):
    """``configs/<dir>/[method_]<encoder>_<stream>.py`` -> encoder."""
    name = osp.splitext(osp.basename(path))[0].rsplit('_', 1)[0]
    return name.rsplit('_', 1)[-1] if '_' in name else name


@pytest.fixture
def one_person_pkl(tmp_path):
    """One 20-frame NTU clip with a single actor (M = 1)."""
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(1, 20, 25, 3)).astype(np.float32)
    anno = dict(frame_dir='S001C001P001R001A001', label=0, total_frames=20,
                keypoint=kp)
    path = str(tmp_path / 'one.pkl')
    splits = ('xsub_train', 'xsub_val', 'xview_train', 'xview_val',
              'xset_train', 'xset_val')
    with open(path, 'wb') as f:
        pickle.dump(dict(split={s: [anno['frame_dir']] for s in splits},
                         annotations=[anno]), f)
    return path


def _persons(cfg, loader, ann_file):
    """(M, T, V, C) input of the loader's first sample."""
    ds = dict(cfg[loader].dataset, ann_file=ann_file)
    inputs = DATASETS.build(ds)[0]['inputs']
    assert inputs.shape[:2] == (1, 2)  # one clip, two person slots
    return inputs[0].numpy()


@pytest.mark.parametrize('name,copies', [
    ('ntu120_xsub/ctrgcn_j.py', True),
    ('ntu120_xset/infogcn_b.py', True),
    ('ntu60_xsub/ctrgcn_j.py', False),
    ('ntu120_xsub/agcn_j.py', False),
])
def test_one_person_clip_second_slot(name, copies, one_person_pkl):
    cfg = _cfg(name)
    for loader in ('train_dataloader', 'test_dataloader'):
        x = _persons(cfg, loader, one_person_pkl)
        assert np.abs(x[0]).sum() > 0
        if copies:  # the actor, transformed with it
            np.testing.assert_array_equal(x[1], x[0])
        else:
            assert not x[1].any()
    if copies:  # the switch back to zero padding
        cfg.merge_from_dict({'test_dataloader.dataset.person_pad': 'zero'})
        assert not _persons(cfg, 'test_dataloader', one_person_pkl)[1].any()


@pytest.mark.slow
def test_person_padding_and_alignment_of_every_supervised_ntu_config():
    wrong = []
    for folder in NTU:
        for path in sorted(glob.glob(osp.join(REPO, 'configs', folder,
                                              '*_j.py'))):
            if osp.basename(path).startswith('skeattnclr_'):
                continue
            cfg = Config.fromfile(path)
            want = ('loop' if folder.startswith('ntu120')
                    and _encoder(path) in COPYING else None)
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader'):
                ds = cfg[loader].dataset
                ds = ds.get('dataset', ds)
                if ds.get('person_pad') != want:
                    wrong.append((osp.relpath(path, REPO), loader,
                                  ds.get('person_pad')))
                if _aligned(cfg, loader) != (_encoder(path) == 'infogcn'):
                    wrong.append((osp.relpath(path, REPO), loader, 'align'))
    assert not wrong


def _aligned(cfg, loader):
    types = [t['type'] for t in cfg[loader].dataset.pipeline]
    return types[:2] == ['CenterJoint', 'AlignSkeleton']


def test_infogcn_input_is_aligned_and_the_switch_removes_it(one_person_pkl):
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for name in ('ntu60_xsub/infogcn_j.py', 'ntu120_xset/infogcn_b.py'):
        assert all(_aligned(_cfg(name), loader) for loader in loaders)
    assert not _aligned(_cfg('ntu60_xsub/ctrgcn_j.py'), 'train_dataloader')
    # the documented switch: a second centring in place of the alignment
    cfg = _cfg('ntu60_xsub/infogcn_j.py')
    aligned = _persons(cfg, 'test_dataloader', one_person_pkl)
    cfg.merge_from_dict({'test_dataloader.dataset.pipeline.1.type':
                         'CenterJoint'})
    plain = _persons(_cfg('ntu60_xsub/ctrgcn_j.py'), 'test_dataloader',
                     one_person_pkl)
    np.testing.assert_allclose(
        _persons(cfg, 'test_dataloader', one_person_pkl), plain)
    assert np.abs(aligned - plain).max() > 0.1


def _released_spatial_a(num_node=25):
    """CTR-GCN graph/tools.py get_spatial_graph on the released edges."""
    def edge2mat(link):
        A = np.zeros((num_node, num_node))
        for i, j in link:
            A[j, i] = 1
        return A

    def normalize_digraph(A):
        deg = A.sum(0)
        return A @ np.diag(np.where(deg > 0, 1 / np.maximum(deg, 1), 0))

    inward = [(i - 1, j - 1) for i, j in RELEASED_NTU_INWARD]
    outward = [(j, i) for i, j in inward]
    return np.stack([np.eye(num_node), normalize_digraph(edge2mat(inward)),
                     normalize_digraph(edge2mat(outward))])


@pytest.mark.parametrize('name', [
    'ntu60_xsub/ctrgcn_j.py', 'ntu120_xset/frhead_ctrgcn_b.py',
    'ntu60_xview/skeletongcl_ctrgcn_jm.py'])
def test_ctrgcn_family_builds_the_released_graph(name):
    cfg = _cfg(name)
    want = _released_spatial_a()
    graph = MODELS.build(cfg.model.backbone).graph
    np.testing.assert_allclose(graph.A, want, atol=1e-12)
    # the tip (22) and thumb (23) chain: 22 -> 23 -> 8, 1-based
    assert want[1, 22, 21] == 1 and want[1, 7, 22] > 0 and want[1, 7, 21] == 0
    # the switch back to MMAction2's graph (tip and thumb on the hand)
    cfg.merge_from_dict({'model.backbone.graph_cfg.layout': 'nturgb+d'})
    other = MODELS.build(cfg.model.backbone).graph.A
    assert other[1, 7, 21] > 0 and not np.allclose(other, want)


@pytest.mark.slow
def test_every_ntu_ctrgcn_family_config_uses_the_released_graph():
    pattern = re.compile(
        r'^((cacl|skeletongcl|frhead|csre)_)*ctrgcn_(j|b|jm|bm)\.py$')
    files = [p for folder in NTU
             for p in sorted(glob.glob(osp.join(REPO, 'configs', folder,
                                                '*.py')))
             if pattern.match(osp.basename(p))]
    assert len(files) >= 4 * 4 * 3  # ctrgcn, frhead, csre in every folder
    wrong = [(osp.relpath(p, REPO), c.model.backbone.graph_cfg.layout)
             for p in files for c in [Config.fromfile(p)]
             if c.model.backbone.type != 'CTRGCN'
             or c.model.backbone.graph_cfg.layout != 'nturgb+d_agcn']
    assert not wrong


def test_agcn_classifier_keeps_the_default_bias():
    # released model/agcn.py: nn.init.normal_(fc.weight, 0, sqrt(2 / K)),
    # the bias left at nn.Linear's U(-1/sqrt(256), 1/sqrt(256))
    torch.manual_seed(0)
    cfg = _cfg('ntu120_xsub/agcn_j.py')
    head = MODELS.build(cfg.model.cls_head)
    head.init_weights()
    fc = head.fc
    bias = fc.bias.detach()
    assert bias.abs().max() <= 1 / 256**0.5 and bias.abs().mean() > 0.01
    assert float(fc.weight.detach().std()) == pytest.approx((2 / 120)**0.5, rel=0.05)
    cfg.merge_from_dict({'model.cls_head.init_cfg.type': 'Normal'})
    head = MODELS.build(cfg.model.cls_head)
    head.init_weights()
    assert not head.fc.bias.any()
