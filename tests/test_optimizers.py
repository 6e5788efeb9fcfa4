"""The optimisers' multi-tensor (foreach) implementation gives the per-parameter loop's numbers."""

from __future__ import annotations

import pytest
import torch

from analysis.mtl.models import build_model
from analysis.mtl.optimizers import OPTIMIZERS
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import TrainingSettings

SETTINGS = {"type": "dnn", "hidden": [32, 16], "dropout": 0.0}


def train_steps(optimizer_name: str, foreach: bool, steps: int = 25) -> list[torch.Tensor]:
    model = build_model(SETTINGS, (12,), {"a": 3, "b": 2}, RunSeeds(seed=0, fold=0))
    config = TrainingSettings.from_config(
        {"optimizer": optimizer_name, "learning_rate": 0.01, "weight_decay": 1e-4, "momentum": 0.9})
    optimizer = OPTIMIZERS[optimizer_name](model.parameters(), config)
    for group in optimizer.param_groups:
        group["foreach"] = foreach
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(16, 12, generator=generator)
        out = model(x)
        loss = out["a"].logsumexp(dim=1).mean() + out["b"].pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_foreach_steps_equal_the_per_parameter_loop_to_the_bit(name: str) -> None:
    for fast, loop in zip(train_steps(name, True), train_steps(name, False)):
        assert torch.equal(fast, loop)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_study_uses_the_foreach_implementation(name: str) -> None:
    config = TrainingSettings.from_config({"optimizer": name})
    optimizer = OPTIMIZERS[name]([torch.nn.Parameter(torch.zeros(2))], config)
    assert optimizer.param_groups[0]["foreach"] is True
