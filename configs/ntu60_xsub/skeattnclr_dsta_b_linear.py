# Linear evaluation (released schedule: lr 3.0, 150 epochs, x0.1 at 60 and
# 100) of the SkeAttnCLR bone DSTA-Net encoder on NTU RGB+D
# 60 X-Sub (Table 2): frozen encoder in eval mode, FC only.
_base_ = ['./skeattnclr_stgcn_b_linear.py']
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_dsta_b_pretrain/epoch_300.pth'
model = dict(
    backbone=dict(
        _delete_=True, type='DSTANet', graph_cfg=dict(layout='nturgb+d'),
        in_channels=3, num_person=2, num_frames=64,
        frozen_stages=8, norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    cls_head=dict(in_channels=256))
