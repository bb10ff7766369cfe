"""tools/knn_eval.py on a tiny SkeAttnCLR checkpoint: the printed top-1 for
each k equals a weighted kNN computed here by hand (numpy) from the model's
embeddings of the same clips; wrong inputs are refused with a clear error.
Also the PKU-MMD and transfer configs' recipe values."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from tool_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIG = osp.join(REPO, 'configs', 'pkummd1', 'skeattnclr_stgcn_j_pretrain.py')
SMALL = {
    'model.backbone.base_channels': 8, 'model.backbone.num_stages': 4,
    'model.backbone.inflate_stages': [3], 'model.backbone.down_stages': [2, 3],
    'model.neck.in_channels': 16, 'model.neck.num_heads': 4,
    'model.neck.projector.in_channels': 16,
    'model.neck.projector.hid_channels': 16,
    'model.neck.projector.out_channels': 8,
    'model.predictor.in_channels': 8, 'model.predictor.hid_channels': 16,
    'model.predictor.out_channels': 8,
    'model.queue_len': 16, 'model.feat_dim': 8,
}


def _tool():
    return load_tool('knn_eval.py')


def _setup(tmp_path):
    rng = np.random.default_rng(0)
    annos = [dict(frame_dir=f's{i}', label=i % 3, total_frames=20,
                  keypoint=(rng.normal(size=(1, 20, 25, 3)) + i % 3
                            ).astype(np.float32)) for i in range(14)]
    ann = str(tmp_path / 'tiny.pkl')
    with open(ann, 'wb') as f:
        pickle.dump(dict(split=dict(xsub_train=[f's{i}' for i in range(9)],
                                    xsub_val=[f's{i}' for i in range(9, 14)]),
                         annotations=annos), f)
    opts = dict(SMALL)
    for key in ('val_dataloader', 'val_cfg.bank_dataloader'):
        opts.update({f'{key}.batch_size': 4, f'{key}.num_workers': 0,
                     f'{key}.persistent_workers': False,
                     f'{key}.dataset.ann_file': ann})
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(opts)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    model.loss(torch.randn(4, 2, 2, 64, 25, 3))  # BN statistics move
    ckpt = str(tmp_path / 'pre.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg, model, ckpt, [f'{k}={json.dumps(v)}' if isinstance(v, list)
                              else f'{k}={v}' for k, v in opts.items()]


def _embed(cfg, model, split):
    ds = DATASETS.build(dict(cfg.val_dataloader.dataset, split=split))
    data = model.data_preprocessor(pseudo_collate([ds[i]
                                                   for i in range(len(ds))]))
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'], feat='embedding')
    return feats.numpy(), np.array([int(s.gt_label)
                                    for s in data['data_samples']])


def _knn_top1(q, ql, b, bl, k, t):
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    right = 0
    for x, y in zip(q, ql):
        sim = b @ x
        idx = np.argsort(-sim)[:k]
        votes = np.zeros(3)
        for i in idx:
            votes[bl[i]] += np.exp(sim[i] / t)
        right += int(votes.argmax() == y)
    return right / len(q)


def test_knn_tool_matches_a_hand_knn(tmp_path, capsys):
    cfg, model, ckpt, opts = _setup(tmp_path)
    out = str(tmp_path / 'knn.json')
    assert _tool().main([CONFIG, ckpt, '--ks', '1', '3', '5',
                         '--temperature', '0.5', '--out', out,
                         '--work-dir', str(tmp_path / 'work'),
                         '--cfg-options', *opts]) == 0
    got = json.load(open(out))['metrics']
    model.eval()
    b, bl = _embed(cfg, model, 'xsub_train')
    q, ql = _embed(cfg, model, 'xsub_val')
    want = {f'knn/top1_k{k}': _knn_top1(q, ql, b, bl, k, 0.5)
            for k in (1, 3, 5)}
    assert got == pytest.approx(want)
    printed = capsys.readouterr().out
    assert f'knn/top1_k3: {100 * want["knn/top1_k3"]:.2f}' in printed


def test_knn_tool_refuses_wrong_inputs(tmp_path, capsys):
    cfg, model, ckpt, opts = _setup(tmp_path)
    tool = _tool()
    work = ['--work-dir', str(tmp_path / 'work')]
    linear = osp.join(REPO, 'configs', 'pkummd1',
                      'skeattnclr_stgcn_j_linear.py')
    assert tool.main([linear, ckpt, *work]) == 1
    assert 'KNNValLoop' in capsys.readouterr().err
    state = {k: v for k, v in model.state_dict().items()
             if k.startswith('backbone.')}
    torch.save(dict(state_dict=state), str(tmp_path / 'bb.pth'))
    assert tool.main([CONFIG, str(tmp_path / 'bb.pth'), *work,
                      '--cfg-options', *opts]) == 1
    assert 'weight(s) of the config\'s model are missing' in \
        capsys.readouterr().err


def test_knn_tool_ann_file_moves_bank_and_queries():
    tool = _tool()
    args = tool.parse_args([CONFIG, 'c.pth', '--ann-file', 'mine.pkl'])
    cfg = tool.build_config(args)
    for ds in (cfg.val_dataloader.dataset,
               cfg.val_cfg.bank_dataloader.dataset):
        assert ds.ann_file == 'mine.pkl' and 'missing_hint' not in ds
    plain = tool.build_config(tool.parse_args([CONFIG, 'c.pth']))
    assert plain.val_cfg.bank_dataloader.dataset.ann_file == \
        'data/pkummd/pkummd1.pkl'


@pytest.mark.parametrize('part', (1, 2))
@pytest.mark.parametrize('stream', ('j', 'b', 'm'))
def test_pkummd_configs(part, stream):
    def cfg(name):
        return Config.fromfile(osp.join(
            REPO, 'configs', f'pkummd{part}',
            f'skeattnclr_stgcn_{stream}_{name}.py'))
    pre, lin = cfg('pretrain'), cfg('linear')
    ann = f'data/pkummd/pkummd{part}.pkl'
    assert pre.model.stream == stream and pre.model.mu == 0.5
    assert pre.train_dataloader.dataset.ann_file == ann
    assert pre.train_dataloader.dataset.split == 'xsub_train'
    assert pre.val_dataloader.dataset.split == 'xsub_val'
    assert pre.val_cfg.bank_dataloader.dataset.split == 'xsub_train'
    assert pre.val_dataloader.dataset.num_classes == 51
    assert lin.model.cls_head.num_classes == 51
    assert lin.model.backbone.init_cfg == dict(
        type='Pretrained', prefix='backbone.',
        checkpoint=f'work_dirs/pkummd{part}/skeattnclr_stgcn_{stream}_'
        'pretrain/epoch_300.pth')
    assert lin.optim_wrapper.optimizer.lr == 3.0
    assert lin.train_dataloader.dataset.stream == (
        'jm' if stream == 'm' else stream)
    if part == 2:
        tr = cfg('transfer_linear')
        assert tr.model.backbone.init_cfg.checkpoint == (
            f'work_dirs/ntu60_xsub/skeattnclr_stgcn_{stream}_pretrain/'
            'epoch_300.pth')
        assert tr.model.backbone.frozen_stages == 10
        assert tr.optim_wrapper.optimizer.lr == 3.0
        assert tr.val_dataloader.dataset.ann_file == ann
        if stream == 'j':
            ft = cfg('transfer_finetune')
            assert ft.model.backbone.frozen_stages == -1
            assert ft.optim_wrapper.optimizer.lr == 0.008
            assert ft.model.cls_head.num_classes == 51
