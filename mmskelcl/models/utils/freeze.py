"""Frozen stages and frozen BatchNorm statistics for GCN backbones.

MMAction2's convention (``ResNet3d``, ``MobileNetV2``): ``frozen_stages=-1``
freezes nothing, ``0`` the stem (the input data BN), ``i`` the stem and
stages ``1 .. i``; frozen modules are kept in eval mode and their
parameters get no gradient. ``norm_eval=True`` keeps *every* BatchNorm in
eval mode during training (running statistics fixed; the affine parameters
still train unless frozen), as linear probing and fine-tuning of
self-supervised backbones need.
"""
from typing import List

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


class FreezeMixin:
    """``frozen_stages`` / ``norm_eval`` for a backbone.

    Subclasses set ``self.frozen_stages`` and ``self.norm_eval``, implement
    :meth:`_stage_modules` (stem first, then one module per stage) and call
    :meth:`_freeze_stages` at the end of ``__init__``; :meth:`train`
    re-applies both after every mode switch.
    """

    frozen_stages: int = -1
    norm_eval: bool = False

    def _stage_modules(self) -> List[nn.Module]:
        """``[stem, stage1, stage2, ...]`` (``stem`` may be an
        ``nn.Identity``)."""
        raise NotImplementedError

    def _check_frozen_stages(self) -> None:
        n = len(self._stage_modules()) - 1
        if not -1 <= self.frozen_stages <= n:
            raise ValueError(
                f'{type(self).__name__}: frozen_stages must be in [-1, {n}] '
                f'(-1 none, 0 the input BN, i the first i stages), got '
                f'{self.frozen_stages}')

    def _freeze_stages(self) -> None:
        """Put the frozen modules in eval mode and stop their gradients."""
        self._check_frozen_stages()
        for module in self._stage_modules()[:self.frozen_stages + 1]:
            module.eval()
            for p in module.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
