"""The input BatchNorm of the GCN encoders (the released ``data_bn``)."""
import torch
import torch.nn as nn


def data_bn_nmtvc(bn: nn.Module, x: torch.Tensor,
                  per_person: bool = True) -> torch.Tensor:
    """Normalise ``x`` ``(N, M, T, V, C)`` with ``bn`` and return it as the
    blocks read it, ``(N * M, C, T, V)``.

    ``bn`` is a ``BatchNorm1d`` over ``M * V * C`` channels
    (``per_person``, the released ``MVC`` BN of CTR-GCN, 2s-AGCN, BlockGCN,
    InfoGCN and Hyperformer: every person slot has its own statistics) or
    over ``V * C`` channels (``VC``: shared by the persons); frames are its
    length axis.
    """
    N, M, T, V, C = x.shape
    x = x.permute(0, 1, 3, 4, 2)  # (N, M, V, C, T)
    x = x.reshape(N, M * V * C, T) if per_person else x.reshape(
        N * M, V * C, T)
    x = bn(x).view(N, M, V, C, T)
    return x.permute(0, 1, 3, 4, 2).reshape(N * M, C, T, V)
