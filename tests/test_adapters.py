"""Tests of the multi-task adapters: gate schedule, cost term, the multi-head limit case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_models import ADAPTERS, BANDS, FAST, FRAMES, make_patches
from test_mtl import train

from analysis.errors import StudyInputError
from analysis.mtl.adapters import AdapterNet, gate_slope, gate_values
from analysis.mtl.layers import count_multiply_adds, count_parameters
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds

SHAPE = (FRAMES, BANDS)


def adapter_net(**options) -> AdapterNet:
    model = build_model(ADAPTERS | options, SHAPE, {"a": 3, "b": 2}, RunSeeds(0, 0))
    assert isinstance(model, AdapterNet)
    return model


def cost(model: AdapterNet, task: str) -> float:
    return model.adapter_cost(task).item()


def set_gates(model: AdapterNet, value: float) -> None:
    with torch.no_grad():
        for adapter in model.adapters.values():
            for gate in adapter.gates:
                gate.fill_(value)


def test_gate_slope_rises_geometrically_from_start_to_end() -> None:
    assert gate_slope(0.0, 1.0, 100.0) == pytest.approx(1.0)
    assert gate_slope(0.5, 1.0, 100.0) == pytest.approx(10.0)
    assert gate_slope(1.0, 1.0, 100.0) == pytest.approx(100.0)
    assert gate_slope(2.0, 1.0, 100.0) == pytest.approx(100.0)  # clipped to the schedule
    slopes = [gate_slope(p / 10, 2.0, 50.0) for p in range(11)]
    assert slopes == sorted(slopes)


def test_gates_are_a_clipped_relu_that_sharpens_with_the_slope() -> None:
    g = torch.tensor([-0.3, 0.0, 0.05, 0.5, 2.0])
    assert gate_values(g, 1.0).tolist() == pytest.approx([0.0, 0.0, 0.05, 0.5, 1.0])
    assert gate_values(g, 100.0).tolist() == pytest.approx([0.0, 0.0, 1.0, 1.0, 1.0])
    model = adapter_net(gate_init=0.05)
    first = model.gates("a")[0].clone()
    model.set_progress(1.0)
    assert model.slope == pytest.approx(100.0)
    assert torch.all(model.gates("a")[0] > first)


def test_cost_of_open_adapters_counts_their_parameters_and_flops() -> None:
    model = adapter_net(cost_lambda=0.5)
    set_gates(model, 1.0)  # every channel open
    adapter_parameters = sum(p.numel() for p in model.adapters["a"].blocks.parameters())
    head_extra = 2 * 3  # adapter features (2) x outputs of task a (3)
    assert cost(model, "a") == pytest.approx(adapter_parameters + head_extra)
    shared = sum(p.numel() for p in model.encoder.parameters())
    assert model.shared_cost() == pytest.approx(shared)
    total = cost(model, "a") + cost(model, "b")
    assert model.penalty().item() == pytest.approx(0.5 * total / shared)

    flops = adapter_net(cost_measure="flops")
    set_gates(flops, 1.0)
    heads_shared_part = 8 * (3 + 2)
    all_macs = count_multiply_adds(flops, SHAPE)
    adapters = cost(flops, "a") + cost(flops, "b")
    assert flops.shared_cost() + adapters + heads_shared_part == pytest.approx(all_macs)


def test_half_open_gates_cost_less_and_closed_gates_cost_nothing() -> None:
    model = adapter_net()
    set_gates(model, 1.0)
    full = cost(model, "a")
    set_gates(model, 0.5)
    assert 0 < cost(model, "a") < full
    set_gates(model, -1.0)
    assert cost(model, "a") == 0.0
    assert model.penalty().item() == 0.0


def test_closed_gates_give_the_multi_head_model() -> None:
    model = adapter_net()
    set_gates(model, -1.0)
    model.eval()
    x = torch.randn(4, *SHAPE)
    before = model(x)
    with torch.no_grad():
        for p in model.adapters.parameters():
            p.add_(torch.randn_like(p))  # changes nothing once the gates are shut
        set_gates(model, -1.0)
    after = model(x)
    for task in before:
        torch.testing.assert_close(before[task], after[task])


def test_cost_penalty_is_differentiable_in_the_gates() -> None:
    model = adapter_net(cost_lambda=1.0)
    model.penalty().backward()
    assert all(g.grad is not None and torch.all(g.grad > 0) for g in model.adapters["a"].gates)


def test_a_large_lambda_closes_the_gates_in_training(tmp_path: Path) -> None:
    make_patches(tmp_path, "alpha", 60, {"word": 3, "speaker": 2}, seed=1)
    # Adam moves each gate ~0.05 a step: 9 steps of mixed batches (both labels on every clip, so
    # every step pushes every gate of both tasks the same way)
    training = FAST | {"learning_rate": 0.05, "batching": "mixed"}
    closed = train(tmp_path, ["alpha_speaker", "alpha_word"], tmp_path / "closed",
                   model=ADAPTERS | {"cost_lambda": 1000.0, "gate_init": 0.1}, training=training)
    open_ = train(tmp_path, ["alpha_speaker", "alpha_word"], tmp_path / "open",
                  model=ADAPTERS | {"cost_lambda": 0.0, "gate_init": 0.1}, training=training)
    shut = json.loads((closed / "efficiency.json").read_text())["adapter_open_fraction"]
    kept = json.loads((open_ / "efficiency.json").read_text())["adapter_open_fraction"]
    assert set(shut) == {"alpha_speaker", "alpha_word"}
    assert all(f == 0.0 for fractions in shut.values() for f in fractions)
    assert min(f for fractions in kept.values() for f in fractions) >= 0.5


@pytest.mark.parametrize(
    "options, field",
    [
        ({"adapter_channels": [2]}, "model.adapter_channels"),
        ({"cost_measure": "energy"}, "model.cost_measure"),
        ({"gate_slope_start": 5.0, "gate_slope_end": 1.0}, "model.gate_slope_start"),
        ({"cost_lambda": -1.0}, "model.cost_lambda"),
    ],
)
def test_bad_adapter_options_name_the_field(options: dict, field: str) -> None:
    with pytest.raises(StudyInputError, match=field):
        adapter_net(**options)


def test_adapters_add_parameters_over_the_multi_head_cnn() -> None:
    cnn = build_model(ADAPTERS | {"type": "cnn"}, SHAPE, {"a": 3, "b": 2}, RunSeeds(0, 0))
    assert count_parameters(adapter_net()) > count_parameters(cnn)
