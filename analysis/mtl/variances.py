"""Intermediate output variances: how spread out each shared layer's activations are, per task.

`layer_variances(model, inputs)` runs each task's rows through the model in eval mode and records,
for every shared layer (each ReLU of the trunk: `dnn`, `frame_dnn`; each conv block: `cnn`), the
variance of its activations over rows, averaged over units (and frames). Training measures it on
each task's test rows with the weights the task is scored with (analysis.mtl.train) and writes it
per model as `variances.parquet`; analysis.stats.layer_variances sets a task's values in its
single-task model beside those in a pair model (`pair / single`): a shared layer whose variance for
a task collapses in the pair is a measurement of how much the partner took over that layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import torch
from torch import nn

from analysis.mtl.layers import ConvBlock


def shared_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The trunk's layers whose outputs are measured, by module name, in forward order."""
    trunk = getattr(model, "trunk", None) or model
    blocks = {name: m for name, m in trunk.named_modules() if isinstance(m, ConvBlock)}
    if blocks:  # conv encoders: one measurement per block (its ReLU is inside it)
        return blocks
    return {name: m for name, m in trunk.named_modules() if isinstance(m, nn.ReLU)}


class _Moments:
    """Per-unit sums over rows in float64, so that batches add up to the whole set's variance;
    shifted by the first row (exact for constant units, no cancellation for large means)."""

    def __init__(self) -> None:
        self.rows = 0
        self.shift: torch.Tensor | None = None
        self.total: torch.Tensor | float = 0.0
        self.squares: torch.Tensor | float = 0.0

    def add(self, out: torch.Tensor) -> None:
        flat = out.detach().reshape(out.shape[0], -1).double().cpu()  # (rows, units)
        if self.shift is None:
            self.shift = flat[0].clone()
        flat = flat - self.shift
        self.rows += flat.shape[0]
        self.total = self.total + flat.sum(dim=0)
        self.squares = self.squares + (flat * flat).sum(dim=0)

    def variance(self) -> float:
        mean = self.total / self.rows
        return float((self.squares / self.rows - mean * mean).clamp(min=0).mean())


@torch.no_grad()
def layer_variances(
    model: nn.Module, inputs: Mapping[str, torch.Tensor | Iterable[torch.Tensor]]
) -> pd.DataFrame:
    """task, layer, variance: per task (its rows, one tensor or batches of rows), per shared
    layer, the mean over units of the variance over rows of the layer's output."""
    moments: dict[str, _Moments] = {}
    layers = shared_layers(model)
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: moments[name].add(out))
             for name, module in layers.items()]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    rows = []
    try:
        for task, batches in inputs.items():
            moments.update({name: _Moments() for name in layers})
            for x in [batches] if isinstance(batches, torch.Tensor) else batches:
                model(x.to(device))
            rows += [(task, layer, m.variance()) for layer, m in moments.items() if m.rows]
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return pd.DataFrame(rows, columns=["task", "layer", "variance"])
