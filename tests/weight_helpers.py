"""Shared by the released-model equivalence tests: random weights and BN
statistics, so that every tensor of a converted state dict matters."""
import torch


def randomise(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Fill every parameter and buffer of ``model`` in place (``N(0, 0.2)``;
    BN running variances ``U(0.5, 1.5)``; step counters kept)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith('num_batches_tracked'):
                continue
            if name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.2)
    return model
