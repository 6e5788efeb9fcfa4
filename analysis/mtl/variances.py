"""Intermediate output variances: how spread out each shared layer's activations are, per task.

`layer_variances(model, inputs)` runs each task's rows through the model in eval mode and records,
for every shared layer (each ReLU of the trunk: `dnn`, `frame_dnn`; each conv block: `cnn`), the
variance of its activations over rows, averaged over units (and frames). `compare_variances` sets a
task's values in its single-task model beside those in a pair model (`pair / single`): a shared
layer whose variance for a task collapses in the pair is a measurement of how much the partner
took over that layer. Not yet wired into the workflow (issue 14: a per-model table
`variances.parquet` needs a hook after each run's final evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping

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


@torch.no_grad()
def layer_variances(model: nn.Module, inputs: Mapping[str, torch.Tensor]) -> pd.DataFrame:
    """task, layer, variance: per task (its rows), per shared layer, the mean over units of the
    variance over rows of the layer's output."""
    captured: dict[str, torch.Tensor] = {}
    hooks = [module.register_forward_hook(
                 lambda _m, _i, out, name=name: captured.__setitem__(name, out.detach()))
             for name, module in shared_layers(model).items()]
    was_training = model.training
    model.eval()
    rows = []
    try:
        for task, x in inputs.items():
            captured.clear()
            model(x)
            for layer, out in captured.items():
                flat = out.reshape(out.shape[0], -1)  # (rows, units)
                rows.append((task, layer, float(flat.var(dim=0, unbiased=False).mean())))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return pd.DataFrame(rows, columns=["task", "layer", "variance"])


def compare_variances(single: pd.DataFrame, pair: pd.DataFrame) -> pd.DataFrame:
    """task, layer, single, pair, ratio (pair / single) for the tasks both tables hold."""
    merged = single.merge(pair, on=["task", "layer"], suffixes=("_single", "_pair"))
    merged = merged.rename(columns={"variance_single": "single", "variance_pair": "pair"})
    merged["ratio"] = merged["pair"] / merged["single"].where(merged["single"] > 0)
    return merged
