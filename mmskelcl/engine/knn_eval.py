"""Weighted kNN monitoring of self-supervised pretraining (InstDisc style,
as SkeletonCLR / SkeAttnCLR): a validation loop that first embeds a bank
set (the training split, without augmentation) and a metric that
classifies the validation embeddings by their neighbours in that bank.

``KNNMetric`` results are ordinary validation metrics (``knn/top1_k20``,
...), so ``CheckpointHook(save_best='knn/top1_k20')`` works natively.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmaction.registry import LOOPS, METRICS
from mmengine.dist import collect_results, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.runner import Runner, ValLoop, autocast


def weighted_knn(query: torch.Tensor, bank: torch.Tensor,
                 bank_labels: torch.Tensor, k: int, temperature: float,
                 num_classes: int, chunk: int = 1024) -> torch.Tensor:
    """Predicted classes ``(Q,)``: the ``k`` most cosine-similar bank
    entries vote for their class with weight ``exp(sim / temperature)``.

    Args:
        query (Tensor): ``(Q, D)``. bank (Tensor): ``(B, D)``.
        bank_labels (Tensor): ``(B,)`` int64.
    """
    query, bank = F.normalize(query, dim=1), F.normalize(bank, dim=1)
    k = min(k, bank.shape[0])
    preds = []
    for start in range(0, query.shape[0], chunk):
        sim = query[start:start + chunk] @ bank.t()
        top_sim, top_idx = sim.topk(k, dim=1)
        votes = torch.zeros(sim.shape[0], num_classes, dtype=sim.dtype)
        votes.scatter_add_(1, bank_labels[top_idx],
                           (top_sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


@METRICS.register_module()
class KNNMetric(BaseMetric):
    """Top-1 accuracy of :func:`weighted_knn` for each ``k``.

    Reads ``feat`` (the model's embedding, set by ``predict``) and
    ``gt_label`` of every validation sample; the bank comes from
    :class:`KNNValLoop` through :meth:`set_bank`.

    Args:
        ks (Sequence[int]): Neighbour counts. Defaults to (10, 20, 40).
        temperature (float): Vote temperature. Defaults to 0.1.
    """

    default_prefix = 'knn'

    def __init__(self, ks: Sequence[int] = (10, 20, 40),
                 temperature: float = 0.1, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ks, self.temperature = tuple(ks), temperature
        self.bank: Optional[torch.Tensor] = None
        self.bank_labels: Optional[torch.Tensor] = None

    def set_bank(self, feats: torch.Tensor, labels: torch.Tensor) -> None:
        """The bank embeddings ``(B, D)`` and labels ``(B,)`` (None on
        ranks other than 0, which compute no metric)."""
        if feats is not None:
            self.bank, self.bank_labels = feats.float(), labels.long()

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'feat' not in sample:
                raise KeyError('KNNMetric needs `feat` in the data samples: '
                               "use a model whose predict() sets it "
                               '(e.g. SkeAttnCLR)')
            self.results.append((sample['feat'].float().cpu(),
                                 int(sample['gt_label'])))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        if self.bank is None:
            raise RuntimeError("KNNMetric has no bank: use val_cfg=dict("
                               "type='KNNValLoop', bank_dataloader=...)")
        feats = torch.stack([r[0] for r in results])
        labels = torch.tensor([r[1] for r in results])
        num_classes = int(max(labels.max(), self.bank_labels.max())) + 1
        return {
            f'top1_k{k}': float((weighted_knn(
                feats, self.bank, self.bank_labels, k, self.temperature,
                num_classes) == labels).float().mean())
            for k in self.ks
        }


@LOOPS.register_module()
class KNNValLoop(ValLoop):
    """``ValLoop`` that embeds ``bank_dataloader`` first and hands the bank
    to every :class:`KNNMetric` of the evaluator.

    Args:
        bank_dataloader (DataLoader | dict): The bank set (the training
            split with the test pipeline).
        Other args: as :class:`mmengine.runner.ValLoop`.
    """

    def __init__(self, runner, dataloader, evaluator,
                 bank_dataloader: Union[Dict, torch.utils.data.DataLoader],
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        if isinstance(bank_dataloader, dict):
            bank_dataloader = Runner.build_dataloader(bank_dataloader,
                                                      seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        self.knn_metrics = [m for m in self.evaluator.metrics
                            if isinstance(m, KNNMetric)]
        if not self.knn_metrics:
            raise ValueError("KNNValLoop needs dict(type='KNNMetric') in "
                             'val_evaluator')

    @torch.no_grad()
    def _embed_bank(self):
        results = []
        for data_batch in self.bank_dataloader:
            with autocast(enabled=self.fp16):
                outputs = self.runner.model.val_step(data_batch)
            results.extend((o.feat.float().cpu(), int(o.gt_label))
                           for o in outputs)
        results = collect_results(results, len(self.bank_dataloader.dataset),
                                  'cpu')
        if not is_main_process():  # metrics are computed on rank 0 only
            return None, None
        return (torch.stack([r[0] for r in results]),
                torch.tensor([r[1] for r in results]))

    def run(self) -> dict:
        self.runner.model.eval()
        feats, labels = self._embed_bank()
        for metric in self.knn_metrics:
            metric.set_bank(feats, labels)
        return super().run()
