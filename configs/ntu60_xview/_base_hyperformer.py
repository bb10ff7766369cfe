# Hyperformer on ntu60_xview (3D, 25 joints, 2 persons): the template of
# hyperformer_{j,b,jm,bm}.py; the released recipe, shared by the NTU
# benchmarks, is ../_base_/recipes/hyperformer_ntu.py.
# As released for X-View only (Hyperformer and CSRE releases): SGD lr
# 0.01 and lr_decay_rate 0.025 at 110 and 120.
_base_ = ['../_base_/recipes/hyperformer_ntu.py']
num_classes = 60
ann_file = 'data/nturgbd/ntu60_3d.pkl'
model = dict(
    cls_head=dict(
        num_classes=num_classes, init_cfg=dict(std=(2 / num_classes)**0.5)))
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xview_train'))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes,
                 split='xview_val'))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    # 5 warm-up epochs: base x .2 .4 .6 .8 1 (LinearLR stops before end)
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[110, 120], gamma=0.025,
         by_epoch=True, begin=0),
]
