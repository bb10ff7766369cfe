"""Per-joint / per-frame weights against hand computations: the
class-activation map of a tiny recognizer, the frame mapping, SkeAttnCLR's
mask and the nearest clips."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

from mmskelcl.visualization.weights import (attention_weights,
                                            class_activation, nearest,
                                            to_clip_weights)


def _tiny_recognizer(num_classes=3):
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='RecognizerGCN',
        backbone=dict(type='CTRGCN', graph_cfg=dict(layout='nwucla'),
                      num_person=2, base_channels=8, num_stages=2,
                      inflate_stages=(), down_stages=()),
        cls_head=dict(type='GCNHead', num_classes=num_classes,
                      in_channels=8)))
    model.init_weights()
    return model.eval()


def test_class_activation_sums_to_the_logits_and_ranks_joints_by_hand():
    model = _tiny_recognizer()
    x = torch.randn(1, 1, 2, 6, 20, 3, generator=torch.Generator()
                    .manual_seed(1))
    cam, bias = class_activation(model, x)
    assert cam.shape == (1, 1, 3, 2, 6, 20)
    with torch.no_grad():
        logits = model(x, mode='tensor', stage='head')[0]  # GCNHead
        feat = model.backbone(x[:, 0])[0].numpy()  # (M, C, T, V)
    w = model.cls_head.fc.weight.detach().numpy()
    b = model.cls_head.fc.bias.detach().numpy()
    M, C, T, V = feat.shape
    for k in range(3):
        # by hand: one dot product per person, frame and joint
        hand = np.zeros((M, T, V))
        for m in range(M):
            for t in range(T):
                for v in range(V):
                    hand[m, t, v] = sum(w[k, c] * feat[m, c, t, v]
                                        for c in range(C))
        assert np.allclose(cam[0, 0, k].numpy(), hand, atol=1e-5)
        # the head averages the map: mean(cam_k) + b_k is the logit
        assert np.isclose(hand.mean() + b[k], logits[k].item(), atol=1e-5)
        joint, frame = to_clip_weights(cam[0, 0, k].mean(0).numpy(), T)
        per_joint = [hand[:, :, v].sum() for v in range(V)]
        assert list(np.argsort(joint)) == list(np.argsort(per_joint))
        assert np.isclose(joint.mean() + b[k], logits[k].item(), atol=1e-5)
    assert torch.equal(bias, model.cls_head.fc.bias.detach())


def test_class_activation_needs_a_linear_head():
    model = _tiny_recognizer()
    model.cls_head = nn.Identity()
    with pytest.raises(TypeError, match='GCNHead'):
        class_activation(model, torch.zeros(1, 1, 2, 4, 20, 3))


def test_steps_map_to_the_frames_they_cover():
    w = np.array([[1., 2, 3], [5, 6, 7]])  # T' = 2 steps, V = 3 joints
    joint, frame = to_clip_weights(w, 5)
    assert np.allclose(joint, [3, 4, 5])
    assert np.allclose(frame, [2, 2, 2, 6, 6])  # floor(t * 2 / 5)


def test_skeattnclr_attention_is_the_mask_per_position():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/demo/skeattnclr_stgcn_j_pretrain.py')
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    neck = model.neck
    with torch.no_grad():  # M_s = sigmoid(2 * b_c) wherever the input is
        neck.proj.weight.zero_()
        neck.proj.bias.copy_(torch.linspace(-1, 1, neck.proj.out_features))
    x = torch.randn(2, 1, 1, 32, 17, 3)
    att = attention_weights(model, x)
    want = torch.sigmoid(neck.lam * neck.proj.bias).mean()
    assert att.shape == (2, 8, 17)  # (B, T', V): ST-GCN strides 2, 2
    assert torch.allclose(att, want.expand_as(att), atol=1e-6)
    with pytest.raises(TypeError, match='SkeAttnCLR'):
        attention_weights(_tiny_recognizer(), x)


def test_nearest_by_cosine_leaving_out_the_query():
    bank = torch.tensor([[1., 0], [0.9, 0.1], [0, 1], [-1, 0], [2, 0.1]])
    rows, sims = nearest(torch.tensor([1., 0]), bank, 3, exclude=[0])
    assert rows == [4, 1, 2]  # cos 0.9988, 0.9939, 0
    assert np.allclose(sims, [2 / np.hypot(2, 0.1), 0.9 / np.hypot(0.9, 0.1),
                              0], atol=1e-6)
