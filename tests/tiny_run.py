"""Shared test fixtures for full Runner runs on tiny data: a FineGym-like
2D annotation file and a Runner config around any model dict."""
import copy
import pickle
from typing import Optional, Sequence

import numpy as np
from mmengine.config import Config

TINY_BACKBONE = dict(type='CTRGCN', graph_cfg=dict(layout='coco'),
                     num_person=1, base_channels=8, num_stages=2,
                     inflate_stages=(), down_stages=())


def write_tiny_pickle(path, n=12, num_classes=3, T=12):
    """COCO-17 2D clips with scores: the first 9 train, the rest val."""
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


def tiny_runner_cfg(ann_file: str,
                    work_dir: str,
                    model: dict,
                    max_epochs: int = 2,
                    stream: str = 'j',
                    clip_len: int = 8,
                    test_clips: int = 2,
                    val_interval: int = 1,
                    custom_hooks: Optional[Sequence[dict]] = None) -> Config:
    """A complete Runner config training ``model`` on ``ann_file``."""
    meta_keys = ('frame_dir', 'sample_idx', 'total_frames')
    pipe = [
        dict(type='PreNormalize2D'),
        dict(type='GenStreamFeat', layout='coco'),
        dict(type='UniformSampleFrames', clip_len=clip_len),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=1),
        dict(type='PackActionInputs', meta_keys=meta_keys),
    ]
    test_pipe = copy.deepcopy(pipe)
    test_pipe[2] = dict(type='UniformSampleFrames', clip_len=clip_len,
                        num_clips=test_clips, test_mode=True)
    ds = dict(type='SkeletonDataset', ann_file=ann_file, num_classes=3,
              stream=stream)
    loader = dict(batch_size=3, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    cfg = dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['mmskelcl'], allow_failed_imports=False),
        work_dir=work_dir,
        model=model,
        train_dataloader=dict(**loader, dataset=dict(
            **ds, split='train', pipeline=pipe)),
        val_dataloader=dict(**loader, dataset=dict(
            **ds, split='val', pipeline=test_pipe, test_mode=True)),
        test_dataloader=dict(**loader, dataset=dict(
            **ds, split='val', pipeline=test_pipe, test_mode=True)),
        val_evaluator=[dict(type='AccMetric')],
        test_evaluator=[dict(type='AccMetric')],
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                       val_interval=val_interval),
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
    )
    if custom_hooks:
        cfg['custom_hooks'] = list(custom_hooks)
    return Config(cfg)
