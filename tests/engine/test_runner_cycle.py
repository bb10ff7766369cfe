"""A full mmengine Runner cycle on tiny data: train, save, resume, test.

The checkpoints are written by the Runner itself, so this also proves that
mmengine 0.10.7 on torch >= 2.6 loads them through the allowlist (the load
keeps ``weights_only=True``).
"""
import copy
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _write_pickle(path, n=12, num_classes=3, T=12):
    rng = np.random.default_rng(0)
    annos = []
    for i in range(n):
        label = i % num_classes
        kp = rng.normal(size=(1, T, 17, 2)).astype(np.float32) * 50 + 500
        kp[..., 0] += 30 * label * np.arange(T)[None, :, None]
        annos.append(
            dict(frame_dir=f'clip{i:02d}', label=label, total_frames=T,
                 img_shape=(1080, 1920), original_shape=(1080, 1920),
                 keypoint=kp.astype(np.float16),
                 keypoint_score=np.ones((1, T, 17), np.float16)))
    data = dict(split=dict(train=[a['frame_dir'] for a in annos[:9]],
                           val=[a['frame_dir'] for a in annos[9:]]),
                annotations=annos)
    with open(path, 'wb') as f:
        pickle.dump(data, f)


def _cfg(ann_file, work_dir, max_epochs=2, stream='j'):
    meta_keys = ('frame_dir', 'sample_idx', 'total_frames')
    pipe = [
        dict(type='PreNormalize2D'),
        dict(type='GenStreamFeat', layout='coco'),
        dict(type='UniformSampleFrames', clip_len=8),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=1),
        dict(type='PackActionInputs', meta_keys=meta_keys),
    ]
    test_pipe = copy.deepcopy(pipe)
    test_pipe[2] = dict(type='UniformSampleFrames', clip_len=8, num_clips=2,
                        test_mode=True)
    ds = dict(type='SkeletonDataset', ann_file=ann_file, num_classes=3,
              stream=stream)
    loader = dict(batch_size=3, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    return Config(dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['mmskelcl'], allow_failed_imports=False),
        work_dir=work_dir,
        model=dict(
            type='AuxRecognizerGCN',
            backbone=dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                          num_person=1, base_channels=8, num_stages=2,
                          inflate_stages=(), down_stages=()),
            cls_head=dict(type='GCNHead', num_classes=3, in_channels=8)),
        train_dataloader=dict(**loader, dataset=dict(
            **ds, split='train', pipeline=pipe)),
        val_dataloader=dict(**loader, dataset=dict(
            **ds, split='val', pipeline=test_pipe, test_mode=True)),
        test_dataloader=dict(**loader, dataset=dict(
            **ds, split='val', pipeline=test_pipe, test_mode=True)),
        val_evaluator=[dict(type='AccMetric')],
        test_evaluator=[dict(type='AccMetric')],
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                       val_interval=1),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                          nesterov=True)),
        param_scheduler=[dict(type='MultiStepLR', milestones=[1],
                              by_epoch=True)],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        log_level='WARNING',
    ))


@pytest.fixture()
def ann_file(tmp_path):
    path = str(tmp_path / 'tiny.pkl')
    _write_pickle(path)
    return path


def test_train_save_resume_test(ann_file, tmp_path):
    work = str(tmp_path / 'work')
    runner = Runner.from_cfg(_cfg(ann_file, work, max_epochs=2))
    runner.train()
    ckpt1 = osp.join(work, 'epoch_1.pth')
    ckpt2 = osp.join(work, 'epoch_2.pth')
    assert osp.exists(ckpt1) and osp.exists(ckpt2)

    # the checkpoint holds the HistoryBuffer/numpy objects that break
    # mmengine 0.10.7 on torch >= 2.6; a weights_only load must accept it
    ck = torch.load(ckpt2, map_location='cpu', weights_only=True)
    assert ck['meta']['epoch'] == 2 and 'message_hub' in ck

    # resume from epoch 1: weights, optimizer state and counters restored
    cfg = _cfg(ann_file, str(tmp_path / 'work_resume'), max_epochs=2)
    cfg.resume, cfg.load_from = True, ckpt1
    resumed = Runner.from_cfg(cfg)
    resumed._train_loop = resumed.build_train_loop(resumed._train_loop)
    resumed.optim_wrapper = resumed.build_optim_wrapper(
        resumed.optim_wrapper)
    resumed.load_or_resume()
    saved = torch.load(ckpt1, map_location='cpu', weights_only=True)
    assert resumed.epoch == 1
    for k, v in resumed.model.state_dict().items():
        torch.testing.assert_close(v, saved['state_dict'][k], msg=k)
    momentum = resumed.optim_wrapper.optimizer.state_dict()['state']
    for pid, st in saved['optimizer']['state'].items():
        torch.testing.assert_close(momentum[pid]['momentum_buffer'],
                                   st['momentum_buffer'])

    # test through the Runner with load_from
    cfg = _cfg(ann_file, str(tmp_path / 'work_test'))
    cfg.load_from = ckpt2
    metrics = Runner.from_cfg(cfg).test()
    assert 0.0 <= metrics['acc/top1'] <= 1.0


def _tool(tmp_path, *args):
    res = subprocess.run([sys.executable, *args], capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_train_resume_and_test_tools(ann_file, tmp_path):
    """tools/train.py, tools/train.py --resume, tools/test.py CKPT."""
    work = str(tmp_path / 'work')
    cfg_file = str(tmp_path / 'tiny_j.py')
    _cfg(ann_file, work, max_epochs=1).dump(cfg_file)
    train = osp.join(REPO, 'tools', 'train.py')
    _tool(tmp_path, train, cfg_file)
    assert osp.exists(osp.join(work, 'epoch_1.pth'))
    res = _tool(tmp_path, train, cfg_file, '--resume', '--cfg-options',
                'train_cfg.max_epochs=2', 'log_level=INFO')
    assert 'resumed epoch: 1' in res.stdout + res.stderr
    assert osp.exists(osp.join(work, 'epoch_2.pth'))
    res = _tool(tmp_path, osp.join(REPO, 'tools', 'test.py'), cfg_file,
                osp.join(work, 'epoch_2.pth'), '--work-dir',
                str(tmp_path / 'test_out'))
    assert 'tiny_j' in res.stdout and 'top1' in res.stdout
