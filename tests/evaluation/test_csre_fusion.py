"""tools/test.py on four CSRE stream checkpoints (joint, bone,
joint-motion, bone-motion), fused with CSRE's fixed nominal weights: 4S
with ``csre_ntu`` and 2S (J + B) with ``csre_ntu_2s``. The checkpoints hold
the training-only CSRE head and its banks; testing runs the plain
encoder. The fused scores must be the weighted sums of the streams'."""
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmskelcl.utils.demo_data import generate_demo_dataset
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STREAMS = ('j', 'b', 'jm', 'bm')
NTU = (0.6, 0.7, 0.35, 0.2)


def _tool():
    return load_tool('test.py')


@pytest.fixture(scope='module')
def streams(tmp_path_factory):
    root = tmp_path_factory.mktemp('csre_fusion')
    ann = generate_demo_dataset(
        str(root / 'demo.pkl'), num_pairs=2, clips_per_class=6,
        num_subjects=3, val_subjects=1, min_frames=30, max_frames=40)
    init_default_scope('mmaction')
    pairs = []
    for k, stream in enumerate(STREAMS):
        cfg = Config.fromfile(
            osp.join(REPO, 'configs', 'demo', f'csre_ctrgcn_{stream}.py'))
        options = {'model.backbone.base_channels': 8,
                   'model.backbone.num_stages': 3,
                   'model.backbone.inflate_stages': [3],
                   'model.backbone.down_stages': [3],
                   'model.cls_head.num_classes': 4,
                   'model.cls_head.in_channels': 16,
                   'test_dataloader.dataset.pipeline.2.num_clips': 1,
                   'log_level': 'WARNING'}
        for loader in ('train', 'val', 'test'):
            options[f'{loader}_dataloader.dataset.ann_file'] = ann
            options[f'{loader}_dataloader.dataset.num_classes'] = 4
        cfg.merge_from_dict(options)
        cfg_file = str(root / f'csre_{stream}.py')
        cfg.dump(cfg_file)
        torch.manual_seed(k)
        model = MODELS.build(cfg.model)
        model.init_weights()
        with torch.no_grad():  # stream-specific, non-trivial predictions
            model.cls_head.fc.weight.normal_(0, 5.0)
        for unit in model.aux_heads.csre.contrast.values():
            unit.bank.resize(16)
        ckpt = str(root / f'csre_{stream}.pth')
        torch.save(dict(meta=dict(), state_dict=model.state_dict()), ckpt)
        pairs += [cfg_file, ckpt]
    return root, pairs


def _load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_4s_and_2s_with_csre_weights(streams, capsys):
    root, pairs = streams
    tool = _tool()
    out4, out2 = str(root / 'fused4.pkl'), str(root / 'fused2.pkl')
    tool.main(pairs + ['--stream-names', *STREAMS, '--weights', 'csre_ntu',
                       '--work-dir', str(root / 'wd4'), '--dump', out4])
    tool.main(pairs[:4] + ['--stream-names', 'j', 'b', '--weights',
                           'csre_ntu_2s', '--work-dir', str(root / 'wd2'),
                           '--dump', out2])
    text = capsys.readouterr().out
    assert text.count('Stream fusion') == 2
    four, two = _load(out4), _load(out2)
    assert tuple(four['weights']) == NTU
    assert tuple(two['weights']) == NTU[:2]
    assert len(four['ids']) == 8  # the 8 validation clips
    s = four['stream_scores']
    # softmax probabilities of four different models
    for name in STREAMS:
        np.testing.assert_allclose(s[name].sum(1), 1, rtol=1e-5)
    assert not np.allclose(s['j'], s['b'])
    np.testing.assert_allclose(
        four['fused'], sum(w * s[n] for w, n in zip(NTU, STREAMS)),
        rtol=1e-6)
    assert two['ids'] == four['ids']
    np.testing.assert_allclose(two['fused'], 0.6 * s['j'] + 0.7 * s['b'],
                               rtol=1e-6)
    labels = np.asarray(four['labels'])
    top1 = float((four['fused'].argmax(1) == labels).mean())
    assert four['metrics']['fused']['top1'] == pytest.approx(top1)
