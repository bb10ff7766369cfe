# The demo: CTR-GCN on the bundled fine-grained 2D demo set (8 classes in
# 4 near-identical pairs, COCO-17 + scores, 1 person), written by
# `python -m mmskelcl.utils.demo_data data/demo/finegym_demo.pkl`.
# It is the FineGym template with a CPU-sized schedule, clip length and
# width: CTR-GCN at half width (base_channels 32, 0.37M parameters) so that
# `make demo` trains eight models (4 streams, baseline and CACL) on 2 CPU
# cores in its budget. Everything else is the full architecture.
_base_ = ['../finegym/_base_ctrgcn.py']
ann_file = 'data/demo/finegym_demo.pkl'
num_classes = 8
clip_len = 32
max_epochs = 12
missing_hint = ('Generate it: python -m mmskelcl.utils.demo_data '
                'data/demo/finegym_demo.pkl (make demo does this).')
model = dict(
    backbone=dict(base_channels=32),
    cls_head=dict(
        num_classes=num_classes,
        in_channels=128,
        init_cfg=dict(std=(2 / num_classes)**0.5)))


def _pipeline(num_clips, test_mode):
    sample = dict(type='UniformSampleFrames', clip_len=clip_len)
    if test_mode:
        sample.update(num_clips=num_clips, test_mode=True)
    return [
        dict(type='PreNormalize2D'),
        dict(type='GenStreamFeat', layout='coco'),
        sample,
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=1),
        dict(type='PackActionInputs',
             meta_keys=('frame_dir', 'sample_idx', 'total_frames')),
    ]


dataset = dict(ann_file=ann_file, num_classes=num_classes,
               missing_hint=missing_hint)
loader = dict(batch_size=16, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(
    **dataset, pipeline=_pipeline(1, False)))
val_dataloader = dict(**loader, dataset=dict(
    **dataset, pipeline=_pipeline(1, True)))
test_dataloader = dict(**loader, dataset=dict(
    **dataset, pipeline=_pipeline(5, True)))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    # 3 warm-up epochs by the released rule base * (e + 1) / 3:
    # 0.033 0.067 0.1 (LinearLR stops before `end`)
    dict(type='LinearLR', start_factor=1. / 3, by_epoch=True, begin=0,
         end=3),
    dict(type='MultiStepLR', milestones=[8, 11], gamma=0.1, by_epoch=True,
         begin=0, end=max_epochs),
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(interval=max_epochs, save_best=None))
