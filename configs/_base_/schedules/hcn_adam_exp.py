# HCN's released schedule (HCN-pytorch experiments/*/HCN01/params.json,
# main.py): Adam lr 1e-3, weight decay 1e-4, ExponentialLR gamma 0.99 per
# epoch (lr_decay_type "exp"), 400 epochs, gradient-norm clipping at
# clip * batch = 0.5 * 64 = 32, batch 64. The release calls
# scheduler.step() at the start of every epoch, the first included, so
# 0-based epoch e trains at 1e-3 * 0.99^(e + 1): here the optimizer starts
# at 1e-3 * 0.99 and mmengine's ExponentialLR (stepped after each epoch)
# gives the same lr every epoch. --cfg-options optim_wrapper.optimizer.lr=1e-3
# gives the unshifted 1e-3 * 0.99^e. Seed: params.json has seed 0; the
# configs keep the project's randomness.seed=1 (--cfg-options
# randomness.seed=0 for the release's).
max_epochs = 400
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='ExponentialLR', gamma=0.99, by_epoch=True)]
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3 * 0.99, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.5 * 64))
auto_scale_lr = dict(enable=False, base_batch_size=64)
