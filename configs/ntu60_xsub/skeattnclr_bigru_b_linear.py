# Linear evaluation (released schedule: lr 3.0, 150 epochs, x0.1 at 60 and
# 100) of the SkeAttnCLR bone BiGRU encoder on NTU RGB+D
# 60 X-Sub (Table 2): frozen encoder in eval mode, FC only.
# The released classifier reads the last step (output='last').
_base_ = ['./skeattnclr_stgcn_b_linear.py']
pretrained = 'work_dirs/ntu60_xsub/skeattnclr_bigru_b_pretrain/epoch_300.pth'
model = dict(
    backbone=dict(
        _delete_=True, type='BiGRU', graph_cfg=dict(layout='nturgb+d'),
        in_channels=3, num_person=2, hidden_channels=1024, num_layers=3,
        mode='released', output='last',
        frozen_stages=3, norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    cls_head=dict(in_channels=2048))
