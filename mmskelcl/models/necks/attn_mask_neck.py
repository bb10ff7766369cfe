"""SkeAttnCLR's neck: the multi-head self-attention mask module (MHSAM),
salient / non-salient pooling and the shared projector."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

TOKEN_LAYOUTS = ('NMCTV', 'NTC')
POOL_NORMS = ('tokens', 'mask')
POOLS = ('mean', 'last')


@MODELS.register_module()
class MLP1D(BaseModule):
    """``Conv1d(1x1, no bias) -> BN1d -> ReLU -> Conv1d(1x1, no bias)`` on
    pooled features (SkeAttnCLR's projector / predictor pattern).

    Args:
        in_channels (int): Input width.
        hid_channels (int): Hidden width.
        out_channels (int): Output width.
        init_cfg (dict, optional): Defaults to Kaiming-normal (fan_out) on
            the convolutions, as released.
    """

    def __init__(self, in_channels: int = 256, hid_channels: int = 256,
                 out_channels: int = 128,
                 init_cfg: Optional[dict] = dict(
                     type='Kaiming', layer='Conv1d', mode='fan_out')) -> None:
        super().__init__(init_cfg=init_cfg)
        self.mlp = nn.Sequential(
            nn.Conv1d(in_channels, hid_channels, 1, bias=False),
            nn.BatchNorm1d(hid_channels), nn.ReLU(inplace=True),
            nn.Conv1d(hid_channels, out_channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels)`` -> ``(N, out_channels)``."""
        return self.mlp(x[..., None])[..., 0]


@MODELS.register_module()
class AttnMaskNeck(BaseModule):
    """MHSAM + mask pooling + projector (SkeAttnCLR, Eqs. 2-7).

    Tokens are the feature map's positions per person: ``'NMCTV'`` (ST-GCN,
    DSTA-Net, and BiGRU's ``(N, 1, C, T, 1)``: ``(N, M, C, T', V)`` ->
    ``N*M`` sequences of ``T'V`` tokens, pooled over tokens then averaged
    over persons) or ``'NTC'`` (a bare ``(N, T, C)`` sequence). ``pool``
    is how a sequence is pooled: ``'mean'`` over its tokens, or ``'last'``,
    its last token only (the released BiGRU: global and masked features
    are read at the last time step; needs ``V = 1``).

    ``M_s = sigmoid(lam * proj(MHSA(LN(X))))`` has one value per token and
    channel (``mask_granularity='channel'``) or per token (``'token'``);
    ``f_s = sum_t X_t * M_t / n`` and ``f_ns = sum_t X_t * (1 - M_t) / n``
    (``pool_norm='tokens'``; ``'mask'`` divides by the mask sums).

    Args:
        in_channels (int): Feature channels C. Defaults to 256.
        num_heads (int): Heads (``C % num_heads == 0``). Defaults to 8.
        qkv_bias (bool): Bias of the fused q/k/v projection.
        lam (float): Sigmoid sharpness lambda. Defaults to 2.
        pre_norm (bool): LayerNorm before the attention.
        attn_drop (float): Attention dropout. proj_drop (float): after proj.
        mask_granularity (str): ``'channel'`` or ``'token'``.
        pool_norm (str): ``'tokens'`` or ``'mask'``.
        with_attn (bool): Build the MHSAM (False: global branch only).
        token_layout (str): ``'NMCTV'`` or ``'NTC'``.
        pool (str, optional): ``'mean'`` or ``'last'``; None: ``'last'``
            for ``'NTC'``, ``'mean'`` for ``'NMCTV'``.
        projector (dict): The shared projector (``MLP1D``).
    """

    def __init__(self,
                 in_channels: int = 256,
                 num_heads: int = 8,
                 qkv_bias: bool = True,
                 lam: float = 2.0,
                 pre_norm: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 mask_granularity: str = 'channel',
                 pool_norm: str = 'tokens',
                 with_attn: bool = True,
                 token_layout: str = 'NMCTV',
                 pool: Optional[str] = None,
                 projector: dict = dict(type='MLP1D', in_channels=256,
                                        hid_channels=256, out_channels=128),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels % num_heads:
            raise ValueError(f'in_channels {in_channels} is not divisible '
                             f'by num_heads {num_heads}')
        if mask_granularity not in ('channel', 'token'):
            raise ValueError("mask_granularity must be 'channel' or 'token', "
                             f'got {mask_granularity!r}')
        if pool_norm not in POOL_NORMS or token_layout not in TOKEN_LAYOUTS:
            raise ValueError(f'pool_norm must be in {POOL_NORMS} and '
                             f'token_layout in {TOKEN_LAYOUTS}, got '
                             f'{pool_norm!r}, {token_layout!r}')
        if pool is None:
            pool = 'last' if token_layout == 'NTC' else 'mean'
        if pool not in POOLS:
            raise ValueError(f'pool must be one of {POOLS}, got {pool!r}')
        self.pool = pool
        self.in_channels, self.num_heads, self.lam = in_channels, num_heads, lam
        self.attn_drop = attn_drop
        self.mask_granularity = mask_granularity
        self.pool_norm, self.token_layout = pool_norm, token_layout
        self.with_attn = with_attn
        if with_attn:
            self.norm = nn.LayerNorm(in_channels) if pre_norm else \
                nn.Identity()
            self.qkv = nn.Linear(in_channels, 3 * in_channels, bias=qkv_bias)
            out = in_channels if mask_granularity == 'channel' else 1
            self.proj = nn.Linear(in_channels, out)
            self.proj_drop = nn.Dropout(proj_drop)
        self.projector = MODELS.build(projector)

    def tokens(self, feat: torch.Tensor) -> torch.Tensor:
        """Backbone output -> ``(B, n, C)`` token sequences."""
        if self.token_layout == 'NTC':
            return feat
        N, M, C, T, V = feat.shape
        if self.pool == 'last' and V != 1:
            raise ValueError(
                f"pool='last' reads the last time step of a sequence "
                f'encoder (output (N, M, C, T, 1)); got V = {V} joints: use '
                "pool='mean' for joint maps")
        return feat.permute(0, 1, 3, 4, 2).reshape(N * M, T * V, C)

    def _merge(self, pooled: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
        """``(B, C)`` per sequence -> ``(N, C)`` (mean over persons)."""
        if self.token_layout == 'NTC':
            return pooled
        N, M = feat.shape[:2]
        return pooled.view(N, M, -1).mean(1)

    def pool_global(self, feat: torch.Tensor) -> torch.Tensor:
        """Global pooling (mean or last token, ``pool``): ``(N, C)``."""
        x = self.tokens(feat)
        pooled = x[:, -1] if self.pool == 'last' else x.mean(1)
        return self._merge(pooled, feat)

    def attention_mask(self, feat: torch.Tensor) -> torch.Tensor:
        """``M_s`` in (0, 1): ``(B, n, C)`` (or ``(B, n, 1)``)."""
        if not self.with_attn:
            raise RuntimeError('AttnMaskNeck was built with with_attn=False')
        x = self.norm(self.tokens(feat))
        B, n, C = x.shape
        q, k, v = self.qkv(x).view(B, n, 3, self.num_heads,
                                   C // self.num_heads).permute(2, 0, 3, 1, 4)
        drop = self.attn_drop if self.training else 0.
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        out = self.proj_drop(self.proj(out.transpose(1, 2).reshape(B, n, C)))
        return torch.sigmoid(self.lam * out)

    def pool_masked(self, feat: torch.Tensor, mask: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Salient / non-salient features ``(N, C)`` of ``feat`` under
        ``mask`` (a query's mask applies position-wise to the keys)."""
        x = self.tokens(feat)
        if mask.shape[:2] != x.shape[:2]:
            raise ValueError(f'mask of shape {tuple(mask.shape)} does not '
                             f'match the tokens {tuple(x.shape)}: query and '
                             'key clips need the same length')
        if self.pool == 'last':  # released BiGRU: the last step
            x, mask = x[:, -1:], mask[:, -1:]
        inv = 1 - mask
        if self.pool_norm == 'tokens':
            f_s, f_ns = (x * mask).mean(1), (x * inv).mean(1)
        else:
            f_s = (x * mask).sum(1) / mask.sum(1).clamp_min(1e-6)
            f_ns = (x * inv).sum(1) / inv.sum(1).clamp_min(1e-6)
        return self._merge(f_s, feat), self._merge(f_ns, feat)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """The projected global embedding ``(N, out_channels)``."""
        return self.projector(self.pool_global(feat))

    def extra_repr(self) -> str:
        return (f'heads={self.num_heads}, lam={self.lam}, '
                f'granularity={self.mask_granularity!r}, '
                f'pool={self.pool!r}, pool_norm={self.pool_norm!r}')
