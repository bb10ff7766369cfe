# Finetuning with the paper's schedule (section 4.4), SkeAttnCLR bone ST-GCN,
# NTU RGB+D 60 X-View: SGD lr 0.05 and PyTorch's reduce-on-plateau "when the
# loss does not converge": the training loss, averaged over each epoch
# (TrainLossMetricHook adds it to the validation metrics; validation every
# epoch, so the scheduler steps once per epoch), x0.1 after 10 epochs without a
# 1e-4 relative decrease (PyTorch's ReduceLROnPlateau defaults). The paper
# gives no epoch count: the released 150 are kept. Everything else (lr aside)
# is _finetune.py's, whose header says what is released.
_base_ = ['./skeattnclr_stgcn_b_finetune.py']
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(type='ReduceOnPlateauLR', monitor='train_loss', rule='less',
         factor=0.1, patience=10, threshold=1e-4, threshold_rule='rel',
         by_epoch=True)
]
custom_hooks = [dict(type='TrainLossMetricHook', key='loss',
                     name='train_loss')]
train_cfg = dict(val_interval=1)
