"""FR-Head's contrastive feature refinement (CFR, the released
``RenovateNet``) with class prototypes kept as registered buffers."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ...utils.dist import all_reduce_mean, world_size

VERSIONS = ('V0', 'V1')
UNSEEN_POLICIES = ('random', 'mask')


@MODELS.register_module()
class CFRLoss(BaseModule):
    """Contrastive feature refinement loss of FR-Head (Zhou et al., CVPR'23).

    ``F = cl_fc(x)`` (a Linear, no activation). With the **detached**
    classifier logits ``z`` (``p = softmax(z)``, ``y_hat = argmax z``) the
    batch splits, per class ``k``, into confident samples
    ``TP = {y = k, y_hat = k, p_k > pred_threshold}``, false negatives
    ``FN = {y = k, y_hat != k}`` and false positives
    ``FP = {y != k, y_hat = k}``. Then, in the released order:

    1. Prototypes (Eq. 3): ``P_k <- m P_k + (1 - m) mean(F_TP^k)`` for every
       class with TP samples in the (global) batch; the others keep ``P_k``.
       The updated prototypes are used in this step's loss.
    2. Batch-local centres ``mu_FN^k``, ``mu_FP^k`` (Eq. 5).
    3. For every anchor ``i`` of class ``k`` (every sample of the batch is
       an anchor), with ``w_i = alpha (1 - p_ik)`` (``alpha`` without the
       ``p`` factor if ``use_p_map=False``; times the TP mask in ``V1``)::

           phi_i = (1 - cos(F_i, mu_FN^k)) [n_FN^k > 0]        (Eq. 6)
           psi_i = (1 + cos(F_i, mu_FP^k)) [n_FP^k > 0]        (Eq. 7)
           s_il  = cos(F_i, P_l) / tau ,  target column
           s_ik  = (cos(F_i, P_k) - w_i * phi_i or psi_i) / tau
           L = mean_i [CE(s^psi_i, k) + CE(s^phi_i, k)]         (Eq. 8)

       With ``alpha == tau`` (0.125 both, the released values) this is the
       paper's Eq. 8 exactly; otherwise the penalty coefficient is
       ``alpha / tau``.

    Versions and ablations (the released ``--cl-version``):

    - ``V0`` (released default; NTU60 X-Sub and NW-UCLA runs): ``phi``,
      ``psi`` on every sample of class ``k``.
    - ``V1`` (the paper's Eq. 6/7; NTU60 X-View and NTU120 runs): only on
      TP samples.
    - ``use_fn=False`` / ``use_fp=False``: ``phi`` / ``psi`` set to 0; both
      CE terms stay, as in the released ``NO FN`` / ``NO FP`` /
      ``NO FN & FP`` (which use the ``V1`` mask: combine with
      ``version='V1'``).

    Gradients (released behaviour by default): the logits and therefore the
    masks and ``p`` are detached; the centres keep their gradient
    (``center_grad``) and the current step's prototype keeps the gradient
    of its ``(1 - m) mean(F_TP)`` part (``proto_grad``); the stored
    prototypes are detached.

    State: ``prototypes`` (K, C_h) and ``proto_updates`` (K,) (how many
    updates each prototype received) are buffers: saved in checkpoints,
    restored on resume, moved with the model. Under distributed training the
    TP sums and counts are averaged over ranks before the update, so the
    EMA uses the TP mean of the global batch, and the previous prototypes
    are averaged in the same collective, so all ranks hold the same values
    (they also agree if their random initialisations differed). The
    gradient through the prototype reaches the local TP features only; the
    FN/FP centres are per-rank batch means (the released code ran on one
    GPU).

    Never-updated prototypes (``unseen``): ``'random'`` (released) keeps the
    ``randn`` initialisation as the class's positive and as a negative of
    every other anchor; ``'mask'`` removes such classes (``proto_updates
    == 0`` after this step's update) from every softmax and drops their
    anchors from the mean (a batch without any remaining anchor gives a
    zero loss).

    Args:
        in_channels (int): Input feature size ``D_in``.
        num_classes (int): Classes ``K`` (the classifier's).
        hidden_channels (int): ``C_h``, the size of ``F`` and of the
            prototypes. Defaults to 256.
        temperature (float): ``tau``. Defaults to 0.125.
        alpha (float): Penalty scale (released ``alp``). Defaults to 0.125.
        momentum (float): Prototype EMA momentum ``m``. Defaults to 0.9.
        version (str): ``'V0'`` or ``'V1'``. Defaults to ``'V1'``.
        use_fn (bool): Keep the compensation term ``phi``.
        use_fp (bool): Keep the penalty term ``psi``.
        use_p_map (bool): Scale the terms by ``1 - p_ik``.
        pred_threshold (float): TP also needs ``p_ik > pred_threshold``.
            Defaults to 0 (inactive).
        proto_grad (bool): Gradient through the current step's prototype.
        center_grad (bool): Gradient through ``mu_FN`` and ``mu_FP``.
        unseen (str): ``'random'`` or ``'mask'``, see above.
        init_cfg (dict, optional): mmengine init config (default: PyTorch's
            Linear init, as released).
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_channels: int = 256,
                 temperature: float = 0.125,
                 alpha: float = 0.125,
                 momentum: float = 0.9,
                 version: str = 'V1',
                 use_fn: bool = True,
                 use_fp: bool = True,
                 use_p_map: bool = True,
                 pred_threshold: float = 0.0,
                 proto_grad: bool = True,
                 center_grad: bool = True,
                 unseen: str = 'random',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if version not in VERSIONS:
            raise ValueError(f'version must be one of {VERSIONS}, got '
                             f'{version!r}')
        if unseen not in UNSEEN_POLICIES:
            raise ValueError(f'unseen must be one of {UNSEEN_POLICIES}, got '
                             f'{unseen!r}')
        if not 0 <= momentum <= 1:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.num_classes = num_classes
        self.hidden_channels = hidden_channels
        self.temperature = temperature
        self.alpha = alpha
        self.momentum = momentum
        self.version = version
        self.use_fn = use_fn
        self.use_fp = use_fp
        self.use_p_map = use_p_map
        self.pred_threshold = pred_threshold
        self.proto_grad = proto_grad
        self.center_grad = center_grad
        self.unseen = unseen
        self.cl_fc = nn.Linear(in_channels, hidden_channels)
        self.register_buffer('prototypes',
                             torch.randn(num_classes, hidden_channels))
        self.register_buffer('proto_updates', torch.zeros(num_classes))

    def masks(self, logits: torch.Tensor, labels: torch.Tensor,
              dtype: torch.dtype) -> Tuple[torch.Tensor, ...]:
        """One-hot ``(N, K)`` masks ``(label, tp, fn, fp)`` and ``p``."""
        if logits.shape[1] != self.num_classes:
            raise ValueError(
                f'CFRLoss has {self.num_classes} prototypes but the '
                f'classifier gives {logits.shape[1]} classes; set '
                'num_classes to the cls_head num_classes')
        prob = logits.softmax(dim=1)
        lbl = F.one_hot(labels, self.num_classes).to(dtype)
        pred = F.one_hot(logits.argmax(dim=1), self.num_classes).to(dtype)
        tp = lbl * pred
        fn, fp = lbl - tp, pred - tp
        tp = tp * (prob > self.pred_threshold).to(dtype)
        return lbl, tp, fn, fp, prob.to(dtype)

    def update_prototypes(self, feats: torch.Tensor,
                          tp: torch.Tensor) -> torch.Tensor:
        """EMA update from the TP samples; returns this step's prototypes
        ``(K, C_h)`` (with gradient to the local TP features if
        ``proto_grad``) and stores them detached."""
        h = self.hidden_channels
        local_sum = tp.t() @ feats  # (K, C_h)
        local_cnt = tp.sum(dim=0)  # (K,)
        stats = torch.cat([
            self.prototypes.to(feats.dtype),
            local_sum.detach(), local_cnt[:, None].detach()
        ], dim=1)
        all_reduce_mean(stats)  # no-op when not distributed
        old, mean_sum, mean_cnt = stats[:, :h], stats[:, h:-1], stats[:, -1]
        has_tp = (mean_cnt > 0)[:, None]
        tp_mean = mean_sum / mean_cnt.clamp_min(1e-12)[:, None]
        m = self.momentum
        new = torch.where(has_tp, m * old + (1 - m) * tp_mean, old)
        with torch.no_grad():
            self.prototypes.copy_(new)
            self.proto_updates.add_(has_tp.squeeze(1).to(
                self.proto_updates.dtype))
        if self.proto_grad:
            # zero in value, d/dF_i = (1 - m) / n_TP(global) for local TPs
            global_cnt = mean_cnt * world_size()
            delta = (local_sum - local_sum.detach()) / \
                global_cnt.clamp_min(1e-12)[:, None]
            new = new + (1 - m) * delta * has_tp
        return new

    @staticmethod
    def centres(feats: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-class means ``(K, C_h)`` of the masked samples and whether a
        class has any (zero vector where not)."""
        cnt = mask.sum(dim=0)
        return mask.t() @ feats / cnt.clamp_min(1e-12)[:, None], cnt > 0

    def forward(self,
                x: torch.Tensor,
                logits: torch.Tensor,
                labels: torch.Tensor,
                masks: Optional[Tuple[torch.Tensor, ...]] = None,
                active: bool = True) -> torch.Tensor:
        """The CFR loss of features ``x`` (N, D_in).

        Args:
            x (torch.Tensor): Features ``(N, in_channels)``.
            logits (torch.Tensor): Classifier scores ``(N, K)`` (detached
                here).
            labels (torch.Tensor): Ground-truth labels ``(N,)``.
            masks (tuple[torch.Tensor], optional): :meth:`masks` of these
                logits and labels, when the caller shares them between
                several CFR modules with the same ``num_classes`` and
                ``pred_threshold``; computed here when ``None``.
            active (bool): ``False`` before the loss counts (FR-Head's
                ``start_epoch``): the prototypes are updated exactly as in
                an active step, as the released code does (its heads run
                every step and only the addition of the loss waits for
                ``start_cl_epoch``), but the loss terms are not computed
                and a zero tied to ``cl_fc`` is returned (zero gradients,
                so DDP sees every parameter used).

        Returns:
            torch.Tensor: The scalar loss (unweighted).
        """
        if torch.is_autocast_enabled(x.device.type):
            # prototypes are an EMA and the scores cosines / tau: float32
            with torch.autocast(device_type=x.device.type, enabled=False):
                return self.forward(x.float(), logits.float(), labels,
                                    masks, active)
        logits = logits.detach()
        feats = self.cl_fc(x)
        if masks is None:
            masks = self.masks(logits, labels, feats.dtype)
        lbl, tp, fn, fp, prob = (m.to(feats.dtype) for m in masks)
        protos = self.update_prototypes(feats, tp)
        if not active:
            return feats.sum() * 0
        cfeats = feats if self.center_grad else feats.detach()
        unit = F.normalize(feats, dim=1)
        sim = unit @ F.normalize(protos, dim=1).t()  # (N, K)
        weight = self.alpha * lbl
        if self.use_p_map:
            weight = weight * (1 - prob)
        if self.version == 'V1':
            weight = weight * tp
        adjusted = []
        for use, mask, sign in ((self.use_fn, fn, -1.), (self.use_fp, fp,
                                                         1.)):
            if not use:
                adjusted.append(sim)
                continue
            centre, has = self.centres(cfeats, mask)
            cos = unit @ F.normalize(centre, dim=1).t()
            term = (1 + sign * cos) * has.to(cos.dtype)[None]
            adjusted.append(sim - weight * term)
        scores = [s / self.temperature for s in adjusted]
        if self.unseen == 'mask':
            seen = self.proto_updates > 0
            keep = seen[labels]
            if not keep.any():
                return feats.sum() * 0
            scores = [
                s[keep].masked_fill(~seen[None], float('-inf'))
                for s in scores
            ]
            labels = labels[keep]
        return sum(F.cross_entropy(s, labels) for s in scores)
