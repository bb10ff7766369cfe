# CTR-GCN recipe: SGD 0.1 nesterov, 5 linear warm-up epochs
# (lr = base * (e + 1) / 5 for e < 5, i.e. factors .2 .4 .6 .8 1.0), then
# x0.1 at each of `lr_steps` (0-based epoch e >= step, as released).
# Dataset configs set max_epochs / lr_steps / weight_decay / batch size.
# mmengine's LinearLR reaches end_factor at epoch `end - 1` (it takes
# end - begin - 1 increments), so `end=warmup_epochs` gives the released
# 0.02 0.04 0.06 0.08 0.1; end=warmup_epochs - 1 would give 0.02 0.047
# 0.073 0.1 (tests/configs/test_schedules.py steps the schedulers).
max_epochs = 65
lr_steps = [35, 55]
warmup_epochs = 5
base_lr = 0.1
weight_decay = 4e-4

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=1. / warmup_epochs, by_epoch=True,
         begin=0, end=warmup_epochs),
    # no `end`: a child config that changes max_epochs keeps its steps
    dict(type='MultiStepLR', milestones=lr_steps, gamma=0.1, by_epoch=True,
         begin=0),
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=base_lr, momentum=0.9,
                   weight_decay=weight_decay, nesterov=True))
auto_scale_lr = dict(enable=False, base_batch_size=64)
