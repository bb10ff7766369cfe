# Runtime shared by every mmskelcl config (MMAction2 conventions).
default_scope = 'mmaction'
custom_imports = dict(imports=['mmskelcl'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # The last checkpoint is the one reported (work_dir/last_checkpoint).
    # Keep a best checkpoint only where val_dataloader reads a validation
    # split that is not the test split (README, "Evaluation protocol").
    checkpoint=dict(
        type='CheckpointHook', interval=1, save_best=None, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=1, deterministic=False)
