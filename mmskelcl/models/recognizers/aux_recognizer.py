"""One recognizer for every supervised method: GCN + training-only heads."""
import inspect
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.models.recognizers import RecognizerGCN
from mmaction.registry import MODELS
from mmaction.utils import SampleList

from ..utils.taps import supports_taps


@MODELS.register_module()
class AuxRecognizerGCN(RecognizerGCN):
    """MMAction2's :class:`RecognizerGCN` plus training-only auxiliary heads.

    At training time the backbone returns the taps the auxiliary heads ask
    for; each head gets ``(taps, logits, labels, sample_idx, feats=,
    inputs=, data_samples=)`` and returns named losses, logged next to
    ``loss_cls``.
    At test time the auxiliary heads are skipped and no tap is computed, so
    the model is exactly the plain ``RecognizerGCN`` with the same weights.

    Heads are built with ``tap_info`` (the backbone's published taps for
    ``num_frames`` input frames) and ``num_classes`` (the classifier's) as
    default arguments, so their configs state no sizes. They are built, and
    initialised, under a forked random generator: a method and its baseline
    (``RecognizerGCN`` with the same backbone and classifier) start from
    identical backbone and classifier weights under the same seed, and the
    training draws (dropout, augmentation order) match too.

    Args:
        backbone (dict): Backbone config (must support taps when any
            auxiliary head requires one, see
            :mod:`mmskelcl.models.utils.taps`).
        cls_head (dict): Classification head config (e.g. ``GCNHead``).
        aux_heads (dict[str, dict] | Sequence[dict]): Auxiliary head
            configs, preferably by name (``dict(graph=dict(type=...))``):
            named heads merge in child configs and are reachable from the
            command line (``--cfg-options
            model.aux_heads.graph.sampler.neg_strategy=CA``).
        num_frames (int, optional): Clip length fed to the backbone (the
            pipeline's ``clip_len``); sizes the heads' temporal axes.
        train_cfg, test_cfg, data_preprocessor: As in
            :class:`RecognizerGCN`.
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: Optional[dict] = None,
                 aux_heads: Union[Mapping[str, dict], Sequence[dict]] = (),
                 num_frames: Optional[int] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            cls_head=cls_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.num_frames = num_frames
        with torch.random.fork_rng(devices=[]):
            if isinstance(aux_heads, Mapping):
                self.aux_heads = nn.ModuleDict({
                    name: self._build_head(h)
                    for name, h in aux_heads.items()
                })
            else:
                self.aux_heads = nn.ModuleList(
                    self._build_head(h) for h in aux_heads)
        taps: List[str] = []
        for head in self._heads():
            taps += [t for t in head.required_taps if t not in taps]
        if taps and not supports_taps(self.backbone):
            raise TypeError(
                f'Auxiliary heads need backbone taps {taps}, but '
                f'{type(self.backbone).__name__} does not provide taps; use '
                'a backbone with `available_taps` (CTRGCN; STGCNTaps or '
                'AAGCNTaps for MMAction2\'s STGCN / AAGCN).')
        if taps:
            self.backbone._check_taps(taps)
        self.aux_taps = tuple(taps)

    def _build_head(self, cfg: dict) -> nn.Module:
        """Build a head with the backbone's tap table and the classifier's
        class count as defaults (passed where its ``__init__`` takes
        them)."""
        cls = MODELS.get(cfg['type']) if isinstance(cfg.get('type'),
                                                     str) else cfg['type']
        if cls is None:
            return MODELS.build(cfg)  # the registry's own error
        params = inspect.signature(cls.__init__).parameters
        defaults = {}
        if 'tap_info' in params and supports_taps(self.backbone):
            defaults['tap_info'] = self.backbone.tap_info(self.num_frames)
        num_classes = getattr(self.cls_head, 'num_classes', None)
        if 'num_classes' in params and num_classes is not None:
            defaults['num_classes'] = num_classes
        return MODELS.build(cfg, default_args=defaults)

    def init_weights(self) -> None:
        """Backbone and classifier as in the plain recognizer; the heads
        under a forked generator (see the class doc)."""
        heads = self._modules.pop('aux_heads')
        try:
            super().init_weights()
        finally:
            self._modules['aux_heads'] = heads
        with torch.random.fork_rng(devices=[]):
            for head in self._heads():
                if hasattr(head, 'init_weights'):
                    head.init_weights()

    def loss(self, inputs: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Classification loss plus every auxiliary head's losses."""
        if not self.aux_heads:
            return super().loss(inputs, data_samples, **kwargs)
        bs, nc = inputs.shape[:2]
        if nc != 1:
            raise ValueError('Auxiliary heads train on one clip per sample; '
                             f'got num_clips={nc}')
        feats, taps = self.backbone(inputs[:, 0], taps=self.aux_taps)
        logits = self.cls_head(feats)
        losses = self.cls_head.loss_by_feat(logits, data_samples)
        labels = torch.cat([ds.gt_label for ds in data_samples]).to(
            logits.device)
        sample_idx = None
        if any(head.needs_sample_idx for head in self._heads()):
            sample_idx = self._sample_indices(data_samples, logits.device)
        for head in self._heads():
            aux = head.loss(
                taps,
                logits=logits,
                labels=labels,
                sample_idx=sample_idx,
                feats=feats,
                inputs=inputs[:, 0],
                data_samples=data_samples)
            clash = set(aux) & set(losses)
            if clash:
                raise KeyError(f'{type(head).__name__} returned loss names '
                               f'already used: {sorted(clash)}')
            losses.update(aux)
        return losses

    def _heads(self) -> List[nn.Module]:
        if isinstance(self.aux_heads, nn.ModuleDict):
            return list(self.aux_heads.values())
        return list(self.aux_heads)

    @staticmethod
    def _sample_indices(data_samples: SampleList,
                        device: torch.device) -> torch.Tensor:
        idx = [ds.metainfo.get('sample_idx') for ds in data_samples]
        if any(i is None for i in idx):
            raise KeyError(
                'Data samples lack `sample_idx` in their metainfo; add it to '
                "PackActionInputs: meta_keys=('frame_dir', 'sample_idx').")
        return torch.as_tensor(idx, dtype=torch.long, device=device)


def strip_aux_state(state_dict: Dict[str, torch.Tensor]) -> Dict:
    """Drop the auxiliary heads' entries from a state dict (for a plain
    ``RecognizerGCN``)."""
    return {k: v for k, v in state_dict.items()
            if not k.startswith('aux_heads.')}
