"""MMAction2 1.2.0: ``AAGCN.init_weights()`` fails outside a Runner.

``unit_aagcn`` / ``unit_gcn`` ask for the ``ConvBranch`` weight initializer,
registered in ``mmaction.engine.model``, but MMAction2's
``WEIGHT_INITIALIZERS`` registry only imports ``mmaction.models``
(``locations=['mmaction.models']`` in ``mmaction/registry.py``). A Runner
happens to import ``mmaction.engine`` first; a model built and initialised
on its own (``init_recognizer``, tests, prefix loading) raises ``KeyError:
'ConvBranch is not in the mmaction::weight initializer registry'``.

The fix imports the module that registers it; nothing is patched.
"""


def apply_weight_init_fix() -> None:
    """Register MMAction2's ``ConvBranch`` initializer (idempotent)."""
    from mmaction.registry import WEIGHT_INITIALIZERS
    if WEIGHT_INITIALIZERS.get('ConvBranch') is None:
        import mmaction.engine.model  # noqa: F401  (registers ConvBranch)
