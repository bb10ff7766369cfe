"""Inference and t-SNE on a checkpoint trained a few iterations on the demo
data with the demo CACL config (so it holds the contrastive head and its
memory bank) at a tiny width."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

from mmskelcl.apis import (class_names_of, classify_skeleton,
                           init_recognizer, load_skeleton_samples)
from mmskelcl.utils.demo_data import class_names, generate_demo_dataset
from ._analysis_helpers import REPO, check_png, load_tool

NUM_PAIRS = 2
NUM_CLASSES = 2 * NUM_PAIRS
CLASSES = class_names(NUM_PAIRS)


def _tiny(config: str, ann_file: str, work_dir: str) -> Config:
    """A demo config at a tiny width on the tiny demo set, one epoch."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'demo', config))
    data = dict(ann_file=ann_file, num_classes=NUM_CLASSES)
    options = {
        'work_dir': work_dir, 'log_level': 'WARNING',
        'model.backbone.base_channels': 8, 'model.backbone.num_stages': 3,
        'model.backbone.inflate_stages': [3],
        'model.backbone.down_stages': [3],
        'model.cls_head.num_classes': NUM_CLASSES,
        'model.cls_head.in_channels': 16,
        'train_dataloader.batch_size': 8, 'train_cfg.max_epochs': 1,
        'default_hooks.checkpoint.interval': 1,
        'train_dataloader.dataset.metainfo': dict(classes=CLASSES),
    }
    for loader in ('train', 'val', 'test'):
        for key, value in data.items():
            options[f'{loader}_dataloader.dataset.{key}'] = value
    if 'aux_heads' in cfg.model:
        options.update({'model.aux_heads.graph.num_classes': NUM_CLASSES,
                        'model.aux_heads.graph.sampler.num_pos': 2,
                        'model.aux_heads.graph.sampler.num_neg': 4})
    cfg.merge_from_dict(options)
    return cfg


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train the tiny CACL model for 3 iterations; dump both configs."""
    root = tmp_path_factory.mktemp('infer')
    ann_file = generate_demo_dataset(
        str(root / 'demo.pkl'), num_pairs=NUM_PAIRS, clips_per_class=8,
        num_subjects=4, val_subjects=1, min_frames=30, max_frames=40)
    files = dict(ann_file=ann_file, root=root)
    for name in ('cacl_ctrgcn_j', 'ctrgcn_j'):
        cfg = _tiny(f'{name}.py', ann_file, str(root / name))
        files[name] = str(root / f'{name}.py')
        cfg.dump(files[name])
    runner = Runner.from_cfg(Config.fromfile(files['cacl_ctrgcn_j']))
    runner.train()
    files['ckpt'] = osp.join(root, 'cacl_ctrgcn_j', 'epoch_1.pth')
    files['labels'] = str(root / 'label_map.txt')
    with open(files['labels'], 'w') as f:
        f.write('\n'.join(n.upper() for n in CLASSES) + '\n')
    return files


def test_checkpoint_with_aux_heads_loads(trained):
    from mmskelcl.compat.checkpoint import load_checkpoint_file
    state = load_checkpoint_file(trained['ckpt'],
                                 map_location='cpu')['state_dict']
    assert any(k.startswith('aux_heads.graph.') for k in state)
    method = init_recognizer(trained['cacl_ctrgcn_j'], trained['ckpt'])
    plain = init_recognizer(trained['ctrgcn_j'], trained['ckpt'])
    for model in (method, plain):
        assert type(model).__name__ == 'RecognizerGCN'
        assert not hasattr(model, 'aux_heads') and not model.training
        assert model.dataset_meta['classes'] == CLASSES
    x = torch.randn(2, 1, 1, 32, 17, 3)
    with torch.no_grad():
        torch.testing.assert_close(method.extract_feat(x, stage='head')[0],
                                   plain.extract_feat(x, stage='head')[0])
    assert class_names_of(plain) == CLASSES
    assert class_names_of(plain, trained['labels'])[0] == CLASSES[0].upper()
    with pytest.raises(RuntimeError, match='does not fit'):
        init_recognizer(trained['ctrgcn_j'], trained['ckpt'],
                        cfg_options={'model.cls_head.num_classes': 5})


def test_classify_matches_the_test_pipeline(trained):
    """A pickle sample and the same clip as an (M, T, V, C) array give the
    scores the dataset + Runner test path gives."""
    from mmaction.registry import DATASETS
    model = init_recognizer(trained['ctrgcn_j'], trained['ckpt'])
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    annos = {a['frame_dir']: a
             for a in load_skeleton_samples(trained['ann_file'])}
    for index in (0, 3):
        item = dataset[index]
        with torch.no_grad():
            expected = model.test_step(
                pseudo_collate([item]))[0].pred_score.numpy()
        anno = annos[item['data_samples'].metainfo['frame_dir']]
        pred = classify_skeleton(model, anno, topk=3)
        np.testing.assert_allclose(pred.scores, expected, atol=1e-6)
        assert pred.gt_label == anno['label']
        assert [t[1] for t in pred.topk] == [CLASSES[t[0]]
                                             for t in pred.topk]
        scores = [t[2] for t in pred.topk]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)
        assert pred.topk[0][0] == int(np.argmax(expected))
        array = np.concatenate(
            [anno['keypoint'], anno['keypoint_score'][..., None]], axis=-1)
        from_array = classify_skeleton(model, array,
                                       img_shape=anno['img_shape'])
        np.testing.assert_allclose(from_array.scores, pred.scores,
                                   atol=1e-5)
        assert from_array.gt_label is None and len(from_array.topk) == 4


def test_infer_tool(trained, capsys):
    tool = load_tool('infer.py')
    sample = load_skeleton_samples(trained['ann_file'])[5]
    tool.main([trained['ctrgcn_j'], trained['ckpt'], trained['ann_file'],
               '--sample', sample['frame_dir'], '--index', '0', '--topk',
               '2', '--label-map', trained['labels']])
    text = capsys.readouterr().out
    true_name = CLASSES[sample['label']].upper()
    assert f'{sample["frame_dir"]} (true label {sample["label"]}: ' \
        f'{true_name})' in text
    assert text.count('  1. ') == 2 and text.count('  2. ') == 2
    assert 'top-1: ' in text
    npy = str(trained['root'] / 'clip.npy')
    np.save(npy, sample['keypoint'])
    tool.main([trained['cacl_ctrgcn_j'], trained['ckpt'], npy])
    assert '  4. ' in capsys.readouterr().out


def test_tsne_tool(trained, capsys):
    out = str(trained['root'] / 'tsne.png')
    tool = load_tool('analysis', 'tsne.py')
    tool.main([trained['ctrgcn_j'], trained['ckpt'],
               trained['cacl_ctrgcn_j'], trained['ckpt'], '--out', out,
               '--titles', 'baseline', 'method', '--perplexity', '5'])
    text = capsys.readouterr().out
    assert text.count('8 samples, 16-d features') == 2  # the val split
    h, w = check_png(out)
    assert w > 1.5 * h  # two panels side by side


def test_probe_check_tool(trained, capsys):
    """tools/analysis/probe_check.py: the training split's and the val
    split's features (their counts are the demo set's), their scale, and
    one reference-probe line per regularisation."""
    from mmskelcl.analysis.features import checkpoint_features
    tool = load_tool('analysis', 'probe_check.py')
    out = tool.main([trained['ctrgcn_j'], trained['ckpt'],
                     '--inverse-reg', '0.1', '10'])
    text = capsys.readouterr().out
    assert 'train: 24 clips, 16-d' in text  # 32 clips, 1 of 4 subjects held out
    assert 'test: 8 clips, 16-d' in text
    assert text.count('standardised logistic regression C=') == 2
    assert set(out['probe']) == {0.1, 10.0}
    # the test split's scale is that of the t-SNE tool's features
    feats = checkpoint_features(trained['ctrgcn_j'], trained['ckpt'])[0]
    assert out['scale']['test']['norm'] == pytest.approx(
        float(np.linalg.norm(feats, axis=1).mean()), rel=1e-6)


def test_test_dump_then_report(trained, capsys):
    """tools/test.py's API dumps scores with config and checkpoint; the
    report says which checkpoint it was and that val is the test split."""
    from mmskelcl.apis import evaluate_streams
    dump = str(trained['root'] / 'scores.pkl')
    result = evaluate_streams([trained['ctrgcn_j']], [trained['ckpt']],
                              stream_names=['j'],
                              work_dir=str(trained['root'] / 'test'),
                              dump=dump)
    load_tool('analysis', 'report.py').main([dump, '--label-map',
                                             trained['labels']])
    text = capsys.readouterr().out
    assert ('j: epoch_1.pth: last checkpoint (epoch 1 of 1)') in text
    assert 'no validation split apart from the test split' in text
    top1 = 100 * result.metrics['fused']['top1']
    assert f'Overall: top1 {top1:.2f}' in text
    assert CLASSES[0].upper() in text
