"""t-SNE of CSRE's spatial and temporal features (Fig. 6): the features of
a checkpoint's CSRE head, per test sample, against an independent
computation, and tools/analysis/tsne.py --feature csre.<branch>."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmskelcl.analysis.head_features import checkpoint_head_features
from mmskelcl.utils.demo_data import generate_demo_dataset
from ._analysis_helpers import REPO, check_png, load_tool

NUM_CLASSES = 4


def _cfg(name, ann_file):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'demo', f'{name}.py'))
    options = {
        'model.backbone.base_channels': 8, 'model.backbone.num_stages': 3,
        'model.backbone.inflate_stages': [3],
        'model.backbone.down_stages': [3],
        'model.cls_head.num_classes': NUM_CLASSES,
        'model.cls_head.in_channels': 16,
        'test_dataloader.batch_size': 4,
    }
    for loader in ('train', 'val', 'test'):
        options[f'{loader}_dataloader.dataset.ann_file'] = ann_file
        options[f'{loader}_dataloader.dataset.num_classes'] = NUM_CLASSES
    cfg.merge_from_dict(options)
    return cfg


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('csre_tsne')
    ann = generate_demo_dataset(
        str(root / 'demo.pkl'), num_pairs=2, clips_per_class=8,
        num_subjects=4, val_subjects=1, min_frames=30, max_frames=40)
    out = dict(root=root)
    for name in ('csre_ctrgcn_j', 'ctrgcn_j'):
        out[name] = str(root / f'{name}.py')
        _cfg(name, ann).dump(out[name])
    init_default_scope('mmaction')  # module fixture: before the autouse one
    torch.manual_seed(3)
    model = MODELS.build(Config.fromfile(out['csre_ctrgcn_j']).model)
    model.init_weights()
    for unit in model.aux_heads.csre.contrast.values():
        unit.bank.resize(24)  # a sized bank, as in a trained checkpoint
    out['ckpt'] = str(root / 'csre.pth')
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), out['ckpt'])
    out['model'] = model.eval()
    return out


def _reference(model, inputs):
    """STFD by hand on every clip's final map, clip mean, normalised."""
    b, clips = inputs.shape[:2]
    x = inputs.flatten(0, 1)
    fmap = model.backbone(x, taps=('final', ))[1]['final']  # N M C T V
    stfd = model.aux_heads.csre.stfd
    out = {}
    for branch, axis in (('spatial', 3), ('temporal', 4)):
        pooled = fmap.mean(axis)  # (N, M, C, V) or (N, M, C, T)
        conv = stfd.reduce[branch]
        red = torch.einsum('nmcp,rc->nmrp', pooled, conv.weight[..., 0]) \
            + conv.bias[:, None]
        fc = stfd.proj[branch]
        f = red.flatten(2) @ fc.weight.T + fc.bias  # channel-major
        f = F.normalize(f.mean(1), dim=1)  # persons, then L2
        out[branch] = F.normalize(f.view(b, clips, -1).mean(1), dim=1)
    return out


def test_features_match_an_independent_computation(files):
    cfg = Config.fromfile(files['csre_ctrgcn_j'])
    loader = Runner.build_dataloader(cfg.test_dataloader, seed=0)
    ref, ref_model = dict(spatial=[], temporal=[]), files['model']
    with torch.no_grad():
        for batch in loader:
            data = ref_model.data_preprocessor(batch, False)
            assert data['inputs'].shape[1] == 5  # 5 test clips averaged
            for branch, f in _reference(ref_model, data['inputs']).items():
                ref[branch].append(f)
    for branch in ('spatial', 'temporal'):
        feats, labels, ids, _ = checkpoint_head_features(
            files['csre_ctrgcn_j'], files['ckpt'], f'csre.{branch}')
        assert feats.shape == (8, 256) and len(ids) == 8  # 2 per class
        assert sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
        np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1,
                                   rtol=1e-5)
        np.testing.assert_allclose(feats, torch.cat(ref[branch]).numpy(),
                                   atol=1e-5)
    # s and t are different features
    assert not np.allclose(torch.cat(ref['spatial']),
                           torch.cat(ref['temporal']), atol=1e-2)
    # the checkpoint was loaded, heads included: another init differs
    torch.manual_seed(4)
    other = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        data = other.data_preprocessor(next(iter(loader)), False)
        assert not np.allclose(_reference(other, data['inputs'])['temporal'],
                               feats[:4], atol=1e-3)


def test_clear_errors(files):
    with pytest.raises(KeyError, match="computes \\['spatial', 'temporal'"):
        checkpoint_head_features(files['csre_ctrgcn_j'], files['ckpt'],
                                 'csre.global', max_samples=1)
    with pytest.raises(KeyError, match="no auxiliary head 'csre'"):
        checkpoint_head_features(files['ctrgcn_j'], None, 'csre.spatial')


def test_tsne_tool_plots_the_spatial_feature(files, capsys):
    out = str(files['root'] / 'tsne.png')
    load_tool('analysis', 'tsne.py').main(
        [files['csre_ctrgcn_j'], files['ckpt'], '--feature', 'csre.spatial',
         '--out', out, '--perplexity', '2'])
    assert '8 samples, 256-d features' in capsys.readouterr().out
    check_png(out)
