"""Weight initialisers of the released CTR-GCN code, as ``init_cfg`` types.

Registered in mmengine's root ``WEIGHT_INITIALIZERS`` so that
``BaseModule.init_weights`` finds them whatever the default scope.
"""
import inspect

import torch.nn as nn
from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module(name='NormalWeight')
class NormalWeightInit(BaseInit):
    """Draw the weights of ``layer`` modules from ``N(mean, std)`` and
    leave their biases as constructed.

    CTR-GCN's classifier is ``nn.Linear`` with
    ``nn.init.normal_(fc.weight, 0, sqrt(2 / K))`` and nothing else, so its
    bias keeps PyTorch's default ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
    mmengine's ``Normal`` init also sets the bias (to 0 by default);
    ``init_cfg=dict(type='Normal', ...)`` gives that instead. Registered
    as ``'NormalWeight'``.

    Args:
        mean (float): Mean of the weights. Defaults to 0.
        std (float): Std of the weights. Defaults to 1.
        layer (str | list[str], optional): Class names of the modules to
            initialise (e.g. ``'Linear'``); with none, the whole module.
    """

    def __init__(self, mean: float = 0., std: float = 1., **kwargs) -> None:
        if 'bias' in kwargs or 'bias_prob' in kwargs:
            raise ValueError('NormalWeightInit leaves biases as constructed; '
                             "use type='Normal' to set them")
        super().__init__(**kwargs)
        self.mean = mean
        self.std = std

    def __call__(self, module: nn.Module) -> None:

        def init(m: nn.Module) -> None:
            names = {m.__class__.__name__}
            names.update(b.__name__ for b in m.__class__.__mro__)
            if self.wholemodule or names & set(self.layer):
                weight = getattr(m, 'weight', None)
                if isinstance(weight, nn.Parameter):
                    nn.init.normal_(weight, self.mean, self.std)

        module.apply(init)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return (f'{self.__class__.__name__}: mean={self.mean}, '
                f'std={self.std}, bias as constructed')


@WEIGHT_INITIALIZERS.register_module()
class CTRGCNInit:
    """The released CTR-GCN initialisation with its options, for
    ``init_cfg`` of :class:`~mmskelcl.models.backbones.CTRGCN`.

    A CTRGCN with ``init_cfg=None`` already gets the released
    initialisation; this type exists to change its options from a config,
    e.g. ``--cfg-options model.backbone.init_cfg.type=CTRGCNInit
    model.backbone.init_cfg.tcn_bn_std=0`` (multi-scale TCN BN weights 1,
    as before this project matched the release). Like every ``init_cfg``
    it is applied by ``init_weights()`` (the Runner calls it).

    Args:
        tcn_bn_std (float): Std of the ``N(1, std)`` draw of the BN weights
            inside every multi-scale TCN (released: 0.02; 0: constant 1).
    """

    def __init__(self, tcn_bn_std: float = 0.02) -> None:
        if tcn_bn_std < 0:
            raise ValueError(f'tcn_bn_std must be >= 0, got {tcn_bn_std}')
        self.tcn_bn_std = tcn_bn_std
        self.wholemodule = False

    def __call__(self, module: nn.Module) -> None:
        init = getattr(module, 'released_init', None)
        if init is None or 'tcn_bn_std' not in inspect.signature(
                init).parameters:
            raise TypeError(f'CTRGCNInit initialises a CTRGCN backbone, '
                            f'not {module.__class__.__name__}')
        init(tcn_bn_std=self.tcn_bn_std)
        if hasattr(module, '_params_init_info'):
            update_init_info(
                module,
                init_info=f'CTRGCNInit: tcn_bn_std={self.tcn_bn_std}')
