# InfoGCN (released architecture, stnoah1/infogcn model/infogcn.py): the
# encoder and its information-bottleneck classifier (InfoGCNHead: sampled
# latent, decoder, label smoothing 0.1). The latent losses are switchable:
# model.cls_head.lambda_mmd=0 / lambda_l2=0 turn off the MMD (lambda_2) and
# latent-norm (lambda_1) terms. k=1: the k-th mode representation of the
# released commands (I - A^k over the layout's bone tree), applied to the
# stream the dataset feeds. Templates set the layout, persons and classes.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='InfoGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        in_channels=3,
        num_person=2,
        num_heads=3,
        k=1),
    cls_head=dict(
        type='InfoGCNHead',
        num_classes=60,
        in_channels=256,
        noise_ratio=0.5,
        z_prior_gain=3,
        lambda_mmd=0.1,
        lambda_l2=1e-4,
        label_smooth_eps=0.1))
