"""InfoGCN's information-bottleneck classifier (``stnoah1/infogcn``).

The released classifier decodes a *sampled* latent: pooled features ->
ReLU(fc) -> ``mu``, ``logvar`` -> ``z = mu + eps * exp(r * logvar)``
(training, std capped at 100 as released but with finite gradients, see
:func:`latent_std`; ``z = mu`` at test) -> ``decoder(z)``. The latent
therefore is the classification path, so it lives in this classification
head, and so do its training losses (``loss.py`` ``get_mmd_loss``),
switchable by their weights:

* ``loss_mmd = lambda_mmd * mse(mean_c z, z_prior[c])`` over the classes
  present in the batch (``lambda_2``, 0.1 released);
* ``loss_l2z = lambda_l2 * |mean z|_2`` (``lambda_1``, 1e-4 released).

``z_prior`` (orthogonal class centres, gain ``--z_prior_gain``) is a
registered buffer, so it survives checkpoints (the release redraws it).
"""
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.logging import print_log


#: The release's ceiling on the latent standard deviation.
MAX_STD = 100.


def latent_std(logvar: torch.Tensor, ratio: float) -> torch.Tensor:
    """``min(exp(ratio * logvar), 100)`` with finite gradients.

    The release computes ``exp(ratio * logvar).clamp(max=100)``: once
    ``ratio * logvar`` passes ~88.7 the float32 ``exp`` is ``inf`` and its
    backward multiplies the clamp's zero gradient by ``inf``, which gives
    NaN gradients that poison every weight in one step (what happened on
    NW-UCLA when ``logvar`` jumped to ~1000 after two SGD steps). Clamping
    the exponent first gives the same values (the outer clamp removes the
    last-ulp difference of ``exp(log(100))``) and a zero gradient where
    saturated.

    Args:
        logvar (torch.Tensor): Log-variance, any shape.
        ratio (float): ``noise_ratio`` ``r``.

    Returns:
        torch.Tensor: The standard deviation, same shape.
    """
    exponent = (logvar * ratio).clamp(max=math.log(MAX_STD))
    return exponent.exp().clamp(max=MAX_STD)


@MODELS.register_module()
class InfoGCNHead(BaseHead):
    """InfoGCN latent classifier with its MMD and latent-norm losses.

    Input ``(N, M, C, T, V)`` backbone features; output class scores.

    Args:
        num_classes (int): Classes.
        in_channels (int): Feature channels (= latent size, 256).
        noise_ratio (float): ``r`` of the latent std ``exp(r * logvar)``
            (``--noise_ratio``, 0.5 in the released ``args.py``).
        z_prior_gain (float): Gain of the orthogonal class prior (3).
        lambda_mmd (float): Weight of ``loss_mmd``; 0 switches it off.
        lambda_l2 (float): Weight of ``loss_l2z``; 0 switches it off.
        dropout (float): Dropout after ``fc`` (0 released).
        label_smooth_eps (float): 0.1 as the release's
            ``LabelSmoothingCrossEntropy``.
        average_clips (str, optional): Multi-clip test averaging
            (``'prob'`` as ``GCNHead``).
        **kwargs: :class:`BaseHead` arguments (``loss_cls``, ``topk`` ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 256,
                 noise_ratio: float = 0.5,
                 z_prior_gain: float = 3.,
                 lambda_mmd: float = 0.1,
                 lambda_l2: float = 1e-4,
                 dropout: float = 0.,
                 label_smooth_eps: float = 0.1,
                 average_clips: Optional[str] = 'prob',
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels,
                         label_smooth_eps=label_smooth_eps,
                         average_clips=average_clips,
                         init_cfg=init_cfg, **kwargs)
        self.noise_ratio = noise_ratio
        self.z_prior_gain = z_prior_gain
        self.lambda_mmd, self.lambda_l2 = lambda_mmd, lambda_l2
        self.fc = nn.Linear(in_channels, in_channels)
        self.fc_mu = nn.Linear(in_channels, in_channels)
        self.fc_logvar = nn.Linear(in_channels, in_channels)
        self.decoder = nn.Linear(in_channels, num_classes)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.register_buffer('z_prior', torch.empty(num_classes,
                                                    in_channels))
        nn.init.orthogonal_(self.z_prior, gain=z_prior_gain)
        self._latent: Optional[torch.Tensor] = None
        self.init_weights()

    def init_weights(self) -> None:
        """Released init: Xavier-uniform (ReLU gain) ``fc``/``fc_mu``/
        ``fc_logvar`` weights, ``N(0, sqrt(2 / K))`` decoder weight, biases
        PyTorch's; ``z_prior`` is drawn once at construction."""
        if self.init_cfg is not None:
            return super().init_weights()
        gain = nn.init.calculate_gain('relu')
        for fc in (self.fc, self.fc_mu, self.fc_logvar):
            nn.init.xavier_uniform_(fc.weight, gain=gain)
        nn.init.normal_(self.decoder.weight, 0,
                        math.sqrt(2. / self.num_classes))

    def latent(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(N, M, C, T, V)`` -> ``mu``, ``logvar`` and ``z`` ``(N, C)``."""
        x = torch.relu(self.fc(x.mean(dim=(3, 4)).mean(dim=1)))
        x = self.dropout(x)
        mu, logvar = self.fc_mu(x), self.fc_logvar(x)
        if self.training:
            std = latent_std(logvar, self.noise_ratio)
            z = mu + torch.randn_like(std) * std
        else:
            z = mu
        return dict(mu=mu, logvar=logvar, z=z)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores ``decoder(z)``; in training the latent ``z`` is
        kept for :meth:`loss_by_feat`."""
        z = self.latent(x)['z']
        self._latent = z if self.training else None
        return self.decoder(z)

    def mmd_losses(self, z: torch.Tensor,
                   labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Weighted ``loss_mmd`` and ``loss_l2z`` of latents ``(B, C)``."""
        losses = {}
        if self.lambda_mmd:
            present = torch.unique(labels)
            means = torch.stack([z[labels == c].mean(0) for c in present])
            losses['loss_mmd'] = self.lambda_mmd * F.mse_loss(
                means, self.z_prior[present])
        if self.lambda_l2:
            losses['loss_l2z'] = self.lambda_l2 * z.mean(0).norm(p=2)
        return losses

    def loss_by_feat(self, cls_scores: torch.Tensor,
                     data_samples: SampleList) -> Dict:
        """Label-smoothed CE plus the latent losses of the last training
        forward."""
        losses = super().loss_by_feat(cls_scores, data_samples)
        z, self._latent = self._latent, None
        if z is None or len(z) != len(cls_scores):
            raise RuntimeError('InfoGCNHead.loss_by_feat needs the scores of '
                               'its own training forward (call head(feats) '
                               'in train mode first)')
        labels = torch.cat([ds.gt_label for ds in data_samples]).to(z.device)
        losses.update(self.mmd_losses(z, labels))
        return losses

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + 'z_prior'
        if key not in state_dict:  # a converted release checkpoint
            print_log(f'{key} not in the checkpoint (the release does not '
                      'save it): keeping this run\'s prior', 'current')
            state_dict[key] = self.z_prior
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
