"""SkeAttnCLR (Hua et al., IJCAI 2023): MoCo-style pretraining with an
attention-mask local branch."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModel, initialize

from ..utils.skeleton_mix import STREAM_ALIASES, convert_stream

KEY_BN_MODES = ('ema', 'own')
INIT_SCHEMES = ('released', 'library')
KNN_PREDICTOR_MODES = ('eval', 'train')
# The release's ``weights_init`` (processor/pretrain.py), run on the whole
# model after construction: every Conv1d/Conv2d/Linear weight N(0, 0.02) and
# bias 0, every BatchNorm weight N(1, 0.02) and bias 0. Other tensors (edge
# importance, LayerNorm, GRU, BN running statistics) keep their init.
RELEASED_INIT = [
    dict(type='Normal', layer=['Conv1d', 'Conv2d', 'Linear'], mean=0.0,
         std=0.02, bias=0.0),
    dict(type='Normal', layer='_BatchNorm', mean=1.0, std=0.02, bias=0.0),
]


@MODELS.register_module()
class SkeAttnCLR(BaseModel):
    """Query encoder (``backbone`` + ``neck``), momentum key encoder
    (``backbone_k`` + ``neck_k``), query-only predictors and a FIFO queue of
    global keys.

    One step (spec section 2.11): ``x_q, x_k`` are the two views on the clip
    axis of ``inputs (N, 2, M, T, V, C)`` (joint coordinates); ``x_mix =
    mix(x_q)``; all three are converted to ``stream``; then

    * ``z_q = norm(pred_g(P(GAP(E_q(x_q)))))``, ``z_k = norm(P_k(GAP(E_k(x_k))))``
    * ``M_s = MHSAM(E_q(x_mix))``; ``q_s, q_ns`` pool ``E_q(x_mix)`` and
      ``k_s, k_ns`` pool ``E_k(x_k)`` with ``M_s``
    * ``L = w_g L_Info(z_q, z_k) + mu L_s + (1 - mu) L_ns``, every negative
      set being the queue of global keys (plus ``q_ns`` / ``q_s``)
    * the gathered ``z_k`` are enqueued after the logits.

    The key encoder is updated by :meth:`momentum_update`, called by
    ``MomentumUpdateHook`` after each optimizer step. Its parameters never
    get gradients; with ``key_bn='ema'`` (released) its floating buffers
    (BN statistics) are averaged too, with ``'own'`` (MoCo) they track the
    key batches. The queue (a ``'fifo'`` :class:`MemoryBank`, initialised
    with random unit vectors) and the key encoder are in ``state_dict``.

    Args:
        backbone (dict): Skeleton encoder returning ``(N, M, C, T', V)``.
        neck (dict): ``AttnMaskNeck``.
        predictor (dict, optional): ``MLP1D`` config of the three query-only
            predictors (released); None is paper-literal (no predictor).
        mix (dict, optional): ``SkeletonPartMix`` (None: ``x_mix = x_q``).
        stream (str): ``'j'``, ``'b'``, ``'m'`` (joint motion) or ``'bm'``.
        layout (str): Skeleton layout of the bone stream.
        queue_len (int): K. feat_dim (int): embedding width.
        temperature (float): tau of every InfoNCE term.
        mu (float): weight of L_s (L_ns gets ``1 - mu``).
        global_weight (float): weight of L_Info.
        local_branch (bool): False is the SkeletonCLR-style baseline.
        sal_nonsal_negative (bool): add ``q_s . sg(q_ns)`` as a negative.
        detach_extra_negative (bool): stop-gradient on that negative.
        key_bn (str): ``'ema'`` or ``'own'``.
        init_scheme (str): ``'released'``: the key encoder is built as a
            second encoder (its constructor draws its own), and
            :meth:`init_weights` applies :data:`RELEASED_INIT` to every
            module after the modules' own init, query and key drawn
            independently, as the release. ``'library'``: the modules' own
            init, the key encoder a copy of the query (MoCo).
        discard_mix_global (bool): Also send the mixed view's global
            embedding through the projector and ``predictor_g`` and discard
            it, as the release does (no effect on the loss; it moves the
            two modules' BN running statistics, so the eval-mode kNN
            features). Defaults to False.
        knn_predictor_mode (str): ``'eval'`` (``predict`` is a plain
            eval-mode pass) or ``'train'`` (``predictor_g`` stays in
            training mode during ``predict``, as the release's kNN monitor:
            batch statistics, running statistics updated).
        data_preprocessor (dict, optional): Defaults to
            ``ActionDataPreprocessor`` (no normalisation).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 predictor: Optional[dict] = dict(
                     type='MLP1D', in_channels=128, hid_channels=256,
                     out_channels=128),
                 mix: Optional[dict] = dict(type='SkeletonPartMix'),
                 stream: str = 'j',
                 layout: str = 'nturgb+d',
                 queue_len: int = 32768,
                 feat_dim: int = 128,
                 temperature: float = 0.2,
                 mu: float = 0.5,
                 global_weight: float = 1.0,
                 local_branch: bool = True,
                 sal_nonsal_negative: bool = True,
                 detach_extra_negative: bool = True,
                 key_bn: str = 'ema',
                 init_scheme: str = 'released',
                 discard_mix_global: bool = False,
                 knn_predictor_mode: str = 'eval',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # mmaction's, any scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if stream not in STREAM_ALIASES:
            raise ValueError(f'stream must be one of '
                             f'{sorted(STREAM_ALIASES)}, got {stream!r}')
        if key_bn not in KEY_BN_MODES:
            raise ValueError(f'key_bn must be one of {KEY_BN_MODES}, got '
                             f'{key_bn!r}')
        if init_scheme not in INIT_SCHEMES:
            raise ValueError(f'init_scheme must be one of {INIT_SCHEMES}, '
                             f'got {init_scheme!r}')
        if knn_predictor_mode not in KNN_PREDICTOR_MODES:
            raise ValueError(f'knn_predictor_mode must be one of '
                             f'{KNN_PREDICTOR_MODES}, got '
                             f'{knn_predictor_mode!r}')
        if not 0 <= mu <= 1:
            raise ValueError(f'mu must be in [0, 1], got {mu}')
        self.stream, self.layout, self.key_bn = stream, layout, key_bn
        self.init_scheme = init_scheme
        self.discard_mix_global = discard_mix_global
        self.knn_predictor_mode = knn_predictor_mode
        self.mu, self.global_weight = mu, global_weight
        self.local_branch = local_branch
        self.sal_nonsal_negative = sal_nonsal_negative
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(dict(neck, with_attn=local_branch))
        preds = ('predictor_g', 'predictor_s', 'predictor_ns')
        for name in preds if local_branch else preds[:1]:
            setattr(self, name,
                    MODELS.build(predictor) if predictor else None)
        self.mix = MODELS.build(mix) if (mix and local_branch) else None
        self.contrast = MODELS.build(
            dict(type='QueueInfoNCELoss', temperature=temperature,
                 detach_extra_negative=detach_extra_negative))
        self.queue = MODELS.build(
            dict(type='MemoryBank', dim=feat_dim, size=queue_len,
                 mode='fifo'))
        self._reset_queue()
        # built, not copied: constructor-time draws (e.g. the BiGRU's
        # Xavier GRU weights) are the key's own, as the release builds two
        # encoders; init_weights decides whether they stay independent
        self.backbone_k = MODELS.build(backbone)
        self.neck_k = MODELS.build(dict(neck, with_attn=local_branch))
        if init_scheme == 'library':
            self.copy_query_to_key()
        self._freeze_key()

    def _reset_queue(self) -> None:
        self.queue.feats.copy_(F.normalize(torch.randn_like(
            self.queue.feats), dim=1))
        self.queue.valid.fill_(True)

    def init_weights(self) -> None:
        """Every module's own init, then by ``init_scheme``: ``'released'``
        re-draws every conv/linear/BN weight of the whole model
        (:data:`RELEASED_INIT`; the key encoder's draws are independent of
        the query's); ``'library'`` copies the query into the key encoder.
        """
        super().init_weights()
        if self.init_scheme == 'released':
            initialize(self, RELEASED_INIT)
        else:
            self.copy_query_to_key()
        self._freeze_key()

    def _freeze_key(self) -> None:
        for k_mod in (self.backbone_k, self.neck_k):
            for p in k_mod.parameters():
                p.requires_grad_(False)

    def _key_pairs(self):
        for q_mod, k_mod in ((self.backbone, self.backbone_k),
                             (self.neck, self.neck_k)):
            yield q_mod, k_mod

    @torch.no_grad()
    def copy_query_to_key(self) -> None:
        """``theta_k <- theta_q`` (parameters and buffers); no key grads."""
        for q_mod, k_mod in self._key_pairs():
            k_mod.load_state_dict(q_mod.state_dict())
        self._freeze_key()

    @torch.no_grad()
    def momentum_update(self, momentum: float) -> None:
        """``theta_k <- m theta_k + (1 - m) theta_q`` over the parameters
        (and, with ``key_bn='ema'``, the floating buffers; integer buffers
        such as ``num_batches_tracked`` are copied)."""
        for q_mod, k_mod in self._key_pairs():
            for p_q, p_k in zip(q_mod.parameters(), k_mod.parameters()):
                p_k.mul_(momentum).add_(p_q.detach(), alpha=1 - momentum)
            if self.key_bn == 'own':
                continue
            for b_q, b_k in zip(q_mod.buffers(), k_mod.buffers()):
                if b_k.dtype.is_floating_point:
                    b_k.mul_(momentum).add_(b_q, alpha=1 - momentum)
                else:
                    b_k.copy_(b_q)

    def _predict(self, name: str, z: torch.Tensor) -> torch.Tensor:
        pred = getattr(self, name, None)
        return F.normalize(pred(z) if pred is not None else z, dim=1)

    def _views(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim != 6:
            raise ValueError('SkeAttnCLR expects inputs (N, num_clips, M, T, '
                             f'V, C), got {tuple(inputs.shape)}')
        return inputs

    def extract_feat(self, inputs: torch.Tensor,
                     feat: str = 'backbone') -> torch.Tensor:
        """Features of the query encoder, averaged over clips.

        Args:
            inputs (Tensor): ``(N, num_clips, M, T, V, C)`` joints.
            feat (str): ``'backbone'`` (GAP, ``(N, C)``) or ``'embedding'``
                (normalised ``pred_g(P(GAP))``, ``(N, feat_dim)``).
        """
        N, nc = self._views(inputs).shape[:2]
        x = convert_stream(inputs.flatten(0, 1), self.stream, self.layout)
        pooled = self.neck.pool_global(self.backbone(x))
        if feat == 'embedding':
            pred = getattr(self, 'predictor_g', None)
            released = (self.knn_predictor_mode == 'train'
                        and pred is not None and not pred.training)
            if released:  # the release's kNN: predictor in training mode
                pred.train()
            try:
                pooled = self._predict('predictor_g',
                                       self.neck.projector(pooled))
            finally:
                if released:
                    pred.eval()
        elif feat != 'backbone':
            raise ValueError(f"feat must be 'backbone' or 'embedding', got "
                             f'{feat!r}')
        return pooled.view(N, nc, -1).mean(1)

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """The SkeAttnCLR losses of a batch (labels are not used)."""
        if self._views(inputs).shape[1] != 2:
            raise ValueError('SkeAttnCLR needs two views on the clip axis '
                             "(pipeline: dict(type='ContrastiveViews', "
                             f'num_views=2, ...)), got {inputs.shape[1]}')
        x_q, x_k = inputs[:, 0], inputs[:, 1]
        x_mix = None
        if self.local_branch:
            x_mix = self.mix(x_q)[0] if self.mix is not None else x_q
            x_mix = convert_stream(x_mix, self.stream, self.layout)
        x_q = convert_stream(x_q, self.stream, self.layout)
        x_k = convert_stream(x_k, self.stream, self.layout)
        # the queue as it is before this batch; a copy, so that enqueueing
        # cannot touch a tensor saved for backward
        queue = self.queue.feats.detach().clone()

        z_q = self._predict('predictor_g', self.neck(self.backbone(x_q)))
        if self.local_branch:
            f_mix = self.backbone(x_mix)
            mask = self.neck.attention_mask(f_mix)
            f_s, f_ns = self.neck.pool_masked(f_mix, mask)
            if self.discard_mix_global:  # released: computed, never used
                with torch.no_grad():
                    self._predict('predictor_g', self.neck.projector(
                        self.neck.pool_global(f_mix)))
            q_s = self._predict('predictor_s', self.neck.projector(f_s))
            q_ns = self._predict('predictor_ns', self.neck.projector(f_ns))
        with torch.no_grad():
            f_k = self.backbone_k(x_k)
            z_k = F.normalize(self.neck_k(f_k), dim=1)
            if self.local_branch:
                k_s, k_ns = self.neck_k.pool_masked(f_k, mask.detach())
                k_s = F.normalize(self.neck_k.projector(k_s), dim=1)
                k_ns = F.normalize(self.neck_k.projector(k_ns), dim=1)

        l_g, acc_g = self.contrast(z_q, z_k, queue)
        losses = dict(loss_global=self.global_weight * l_g, acc_global=acc_g)
        if self.local_branch:
            neg = self.sal_nonsal_negative
            l_s, acc_s = self.contrast(q_s, k_s, queue, q_ns if neg else None)
            l_ns, acc_ns = self.contrast(q_ns, k_ns, queue,
                                         q_s if neg else None)
            losses.update(
                loss_salient=self.mu * l_s,
                loss_nonsalient=(1 - self.mu) * l_ns,
                nce_salient=l_s.detach(), nce_nonsalient=l_ns.detach(),
                acc_salient=acc_s, acc_nonsalient=acc_ns,
                mask_mean=mask.detach().mean())
        self.queue.update(z_k)
        return losses

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        """``'loss'``: :meth:`loss`; ``'tensor'``: backbone features;
        ``'predict'``: the data samples with ``feat`` (the embedding)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if mode == 'predict':
            feats = self.extract_feat(inputs, feat='embedding')
            for sample, f in zip(data_samples, feats):
                sample.set_field(f, 'feat')
            return data_samples
        raise RuntimeError(f'Invalid mode {mode!r}')
