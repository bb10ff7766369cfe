"""Import-and-build smoke test, run from an installed wheel.

``python -m mmskelcl.utils.smoke`` imports every module of the package,
checks that each registered mmskelcl name resolves through MMAction2's
registries, and builds a tiny CTR-GCN recognizer. Exits non-zero on failure.
"""
import importlib
import pkgutil
import sys


def registered_names() -> dict:
    """``{registry name: [mmskelcl classes registered there]}``."""
    from mmaction.registry import (DATASETS, HOOKS, METRICS, MODELS,
                                   TRANSFORMS)
    out = {}
    for reg in (MODELS, TRANSFORMS, DATASETS, METRICS, HOOKS):
        out[reg.name] = sorted(
            name for name, cls in reg.module_dict.items()
            if cls.__module__.startswith('mmskelcl.'))
    return out


def main() -> int:
    import mmskelcl
    for info in pkgutil.walk_packages(mmskelcl.__path__, 'mmskelcl.'):
        importlib.import_module(info.name)
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    names = registered_names()
    for reg_name, cls_names in names.items():
        print(f'{reg_name}: {", ".join(cls_names) or "-"}')
    model = MODELS.build(
        dict(type='AuxRecognizerGCN',
             backbone=dict(type='CTRGCN', graph_cfg=dict(layout='nwucla'),
                           num_person=1, base_channels=8, num_stages=2,
                           inflate_stages=(), down_stages=()),
             cls_head=dict(type='GCNHead', num_classes=3, in_channels=8)))
    import torch
    out, _ = model.extract_feat(torch.randn(2, 1, 1, 8, 20, 3), stage='head')
    assert out.shape == (2, 3), out.shape
    print('smoke ok:', mmskelcl.__file__)
    return 0


if __name__ == '__main__':
    sys.exit(main())
