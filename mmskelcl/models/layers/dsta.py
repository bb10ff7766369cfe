"""DSTA-Net's spatial-temporal attention block (Shi et al., ACCV 2020,
"Decoupled Spatial-Temporal Attention Network"), as released in
``lshiwjx/DSTA-Net`` ``model/dstanet.py`` (and copied by SkeAttnCLR as
``net/dsta.py``).

A block is a spatial attention unit followed by a temporal one, both on
``(N, C, T, V)``. Each has ``S`` subsets; a subset's attention map is

* spatial (``V x V``): ``alpha_s * tanh(q_s . k_s / (C' T))`` over the
  joints (``q, k``: 1x1 convolutions of the input plus a sinusoidal
  *joint-index* encoding) plus a learnable global map initialised to
  ``1 / V``;
* temporal (``T x T``): ``alpha_t * tanh(q_t . k_t / (C' V))`` over the
  frames (``q, k`` of the spatial unit's output plus a *frame-index*
  encoding), plus, with ``glo_reg_t``, a learnable map initialised to the
  identity.

The maps aggregate the input *without* the positional encoding, the ``S``
results are concatenated and mixed by a 1x1 conv + BN, added to a
residual, then a feed-forward conv + BN with a second residual (LeakyReLU
0.1 after each sum). The temporal unit's feed-forward conv carries the
block's stride (kernel ``(kernel_size, 1)``, released 1: a stride-2 block
keeps every other frame). The temporal maps are sized for the block's
input frames, so a model takes clips of exactly its ``num_frames``.
"""
import math

import torch
import torch.nn as nn


def sinusoid_encoding(channels: int, num_frames: int, num_joints: int,
                      by: str) -> torch.Tensor:
    """``(1, C, T, V)`` sinusoidal encoding of each position's frame index
    (``by='frame'``) or joint index (``by='joint'``): channel ``2i`` is
    ``sin(p / 10000^(2i / C))``, channel ``2i + 1`` its cosine."""
    if channels % 2:
        raise ValueError(f'the positional encoding needs an even channel '
                         f'count, got {channels}')
    t, v = torch.meshgrid(torch.arange(num_frames), torch.arange(num_joints),
                          indexing='ij')
    pos = (t if by == 'frame' else v).float()[..., None]  # (T, V, 1)
    freq = torch.exp(torch.arange(0, channels, 2).float() *
                     (-math.log(10000.0) / channels))
    pe = torch.zeros(num_frames, num_joints, channels)
    pe[..., 0::2] = torch.sin(pos * freq)
    pe[..., 1::2] = torch.cos(pos * freq)
    return pe.permute(2, 0, 1)[None]


def _conv_bn(cin: int, cout: int, kernel=1, stride=1,
             padding=0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding),
        nn.BatchNorm2d(cout))


class DSTABlock(nn.Module):
    """One spatial + temporal attention block on ``(N, C, T, V)``.

    Args:
        in_channels (int): Input channels. out_channels (int): Output.
        inter_channels (int): Query / key channels ``C'`` per subset.
        num_frames (int): Input frames ``T`` (sizes the temporal maps).
        num_joints (int): Joints ``V``.
        stride (int): Temporal stride (1 or 2).
        num_subsets (int): Attention maps per unit ``S``.
        spatial_att (bool): Spatial attention unit (False: a (1, 3) conv
            over the joints). temporal_att (bool): Temporal attention unit
            (False: a (7, 1) temporal conv).
        att_s, glo_reg_s (bool): Data-dependent / global spatial maps.
        att_t, glo_reg_t (bool): Data-dependent / global temporal maps.
        use_pes, use_pet (bool): Joint / frame encodings on the q, k input.
        attn_drop (float): Dropout on the attention maps.
        kernel_size (int): Temporal kernel of the strided convolutions.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 inter_channels: int, num_frames: int, num_joints: int,
                 stride: int = 1, num_subsets: int = 3,
                 spatial_att: bool = True, temporal_att: bool = True,
                 att_s: bool = True, glo_reg_s: bool = True,
                 att_t: bool = True, glo_reg_t: bool = False,
                 use_pes: bool = True, use_pet: bool = True,
                 attn_drop: float = 0., kernel_size: int = 1) -> None:
        super().__init__()
        if (spatial_att and not (att_s or glo_reg_s)) or \
                (temporal_att and not (att_t or glo_reg_t)):
            raise ValueError('an attention unit needs its data-dependent '
                             '(att_*) or global (glo_reg_*) map, or both')
        S, Ci, Co, V, T = (num_subsets, inter_channels, out_channels,
                           num_joints, num_frames)
        self.S, self.inter = S, Ci
        self.spatial_att, self.temporal_att = spatial_att, temporal_att
        self.att_s, self.att_t = att_s, att_t
        self.relu = nn.LeakyReLU(0.1)
        self.drop = nn.Dropout(attn_drop)
        pad = (kernel_size - 1) // 2
        reshape = in_channels != out_channels or stride != 1
        ident = nn.Identity
        if spatial_att:
            if use_pes:
                self.register_buffer('pes', sinusoid_encoding(
                    in_channels, T, V, 'joint'), persistent=False)
            self.use_pes = use_pes
            if att_s:
                self.in_nets = nn.Conv2d(in_channels, 2 * S * Ci, 1)
                self.alphas = nn.Parameter(torch.ones(1, S, 1, 1))
            self.attention0s = nn.Parameter(
                torch.ones(1, S, V, V) / V) if glo_reg_s else None
            self.out_nets = _conv_bn(in_channels * S, Co)
            self.ff_nets = _conv_bn(Co, Co)
            self.downs1 = _conv_bn(in_channels, Co) if reshape else ident()
        else:
            self.out_nets = _conv_bn(in_channels, Co, (1, 3), 1, (0, 1))
        self.downs2 = _conv_bn(in_channels, Co) if reshape else ident()
        if temporal_att:
            if use_pet:
                self.register_buffer('pet', sinusoid_encoding(
                    Co, T, V, 'frame'), persistent=False)
            self.use_pet = use_pet
            if att_t:
                self.in_nett = nn.Conv2d(Co, 2 * S * Ci, 1)
                self.alphat = nn.Parameter(torch.ones(1, S, 1, 1))
            self.attention0t = nn.Parameter(
                torch.eye(T).expand(1, S, T, T).clone()) if glo_reg_t \
                else None
            self.out_nett = _conv_bn(Co * S, Co)
            self.ff_nett = _conv_bn(Co, Co, (kernel_size, 1), (stride, 1),
                                    (pad, 0))
            self.downt1 = _conv_bn(Co, Co) if reshape else ident()
        else:
            self.out_nett = _conv_bn(Co, Co, (7, 1), (stride, 1), (3, 0))
        self.downt2 = _conv_bn(Co, Co, (kernel_size, 1), (stride, 1),
                               (pad, 0)) if reshape else ident()

    def _spatial(self, x: torch.Tensor) -> torch.Tensor:
        N, C, T, V = x.shape
        attn = x.new_zeros(1, self.S, V, V)
        if self.att_s:
            y = x + self.pes if self.use_pes else x
            q, k = self.in_nets(y).view(N, 2 * self.S, self.inter, T,
                                        V).chunk(2, dim=1)
            scores = torch.einsum('nsctu,nsctv->nsuv', q, k)
            attn = attn + torch.tanh(scores / (self.inter * T)) * self.alphas
        if self.attention0s is not None:
            attn = attn + self.attention0s
        attn = self.drop(attn)
        y = torch.einsum('nctu,nsuv->nsctv', x, attn.expand(N, -1, -1, -1))
        y = self.out_nets(y.reshape(N, self.S * C, T, V))
        y = self.relu(self.downs1(x) + y)
        return self.relu(self.downs2(x) + self.ff_nets(y))

    def _temporal(self, y: torch.Tensor) -> torch.Tensor:
        N, C, T, V = y.shape
        attn = y.new_zeros(1, self.S, T, T)
        if self.att_t:
            z = y + self.pet if self.use_pet else y
            q, k = self.in_nett(z).view(N, 2 * self.S, self.inter, T,
                                        V).chunk(2, dim=1)
            scores = torch.einsum('nsctv,nscqv->nstq', q, k)
            attn = attn + torch.tanh(scores / (self.inter * V)) * self.alphat
        if self.attention0t is not None:
            attn = attn + self.attention0t
        attn = self.drop(attn)
        z = torch.einsum('nctv,nstq->nscqv', y, attn.expand(N, -1, -1, -1))
        z = self.out_nett(z.reshape(N, self.S * C, T, V))
        z = self.relu(self.downt1(y) + z)
        return self.relu(self.downt2(y) + self.ff_nett(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C_in, T, V)`` -> ``(N, C_out, ceil(T / stride), V)``."""
        if self.spatial_att:
            y = self._spatial(x)
        else:
            y = self.relu(self.downs2(x) + self.out_nets(x))
        if self.temporal_att:
            return self._temporal(y)
        return self.relu(self.downt2(y) + self.out_nett(y))
