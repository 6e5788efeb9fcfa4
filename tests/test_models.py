"""Tests of the model factory: dnn, cnn and adapters shapes, seeding, FLOPs counting, training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_mtl import read_outputs, train, write_model_inputs

from analysis.errors import StudyInputError
from analysis.mtl.layers import count_multiply_adds, count_parameters
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds

FRAMES, BANDS = 8, 6
CNN = {"type": "cnn", "channels": [4, 8], "dropout": 0.0}
ADAPTERS = {"type": "adapters", "channels": [4, 8], "adapter_channels": [2, 2], "dropout": 0.0}
FAST = {"epochs": 3, "batch_size": 16, "learning_rate": 0.01, "seeds": [0]}


def make_patches(root: Path, name: str, n_clips: int, labels: dict[str, int], seed: int) -> Path:
    """A dataset of (frames, bands) patches whose classes light up different bands."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_clips, FRAMES, BANDS)).astype(np.float32)
    manifest = pd.DataFrame({"clip_id": [f"{name}/clip{i:03d}.wav" for i in range(n_clips)]})
    for offset, (column, n_classes) in enumerate(labels.items()):
        classes = rng.integers(0, n_classes, size=n_clips)
        features[np.arange(n_clips), 2:5, (classes + offset) % BANDS] += 4.0
        manifest[column] = [f"{column}_{c}" for c in classes]
    return write_model_inputs(root, name, manifest, features)


@pytest.fixture(scope="module")
def patches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("patches")
    make_patches(root, "alpha", 60, {"word": 3, "speaker": 2}, seed=1)
    return root


@pytest.mark.parametrize("config", [{"type": "dnn", "hidden": [8]}, CNN, ADAPTERS])
def test_every_model_returns_one_output_per_task(config: dict) -> None:
    model = build_model(config, (FRAMES, BANDS), {"b": 1, "a": 3}, RunSeeds(0, 0))
    outputs = model(torch.randn(5, FRAMES, BANDS))
    assert set(outputs) == {"a", "b"}
    assert outputs["a"].shape == (5, 3) and outputs["b"].shape == (5, 1)


def test_cnn_on_summary_features_is_an_error() -> None:
    with pytest.raises(StudyInputError, match="model.type 'cnn' needs frame-based features"):
        build_model(CNN, 16, {"a": 2}, RunSeeds(0, 0))


def test_cnn_layers_follow_tagliasacchi() -> None:
    model = build_model({"type": "cnn"}, (96, 64), {"a": 2}, RunSeeds(0, 0))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 128]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 5


def test_flops_count_convolutions_and_linear_layers() -> None:
    model = build_model(CNN, (FRAMES, BANDS), {"a": 3}, RunSeeds(0, 0))
    conv1 = FRAMES * BANDS * 4 * (1 * 9)  # output elements x (in_channels x kernel)
    conv2 = (FRAMES // 2) * (BANDS // 2) * 8 * (4 * 9)
    head = 8 * 3
    assert count_multiply_adds(model, (FRAMES, BANDS)) == conv1 + conv2 + head
    conv_params = 4 * 9 + 8 * 4 * 9  # no bias: batch norm follows
    assert count_parameters(model) == conv_params + 2 * (4 + 8) + (8 * 3 + 3)


@pytest.mark.parametrize("config", [CNN, ADAPTERS])
def test_single_and_pair_start_from_the_same_trunk_and_main_head(config: dict) -> None:
    seeds = RunSeeds(seed=2, fold=1)
    single = build_model(config, (FRAMES, BANDS), {"main": 3}, seeds).state_dict()
    pair = build_model(config, (FRAMES, BANDS), {"main": 3, "aux": 2}, seeds).state_dict()
    for key, value in single.items():
        assert torch.equal(value, pair[key]), key
    assert any(key.startswith(("heads.aux", "adapters.aux")) for key in pair)
    other = build_model(config, (FRAMES, BANDS), {"main": 3}, RunSeeds(seed=3, fold=1))
    first_conv = next(k for k in single if k.endswith("0.0.weight"))
    assert not torch.equal(single[first_conv], other.state_dict()[first_conv])


@pytest.mark.parametrize("config", [CNN, ADAPTERS])
def test_conv_models_learn_and_repeat_exactly(patches: Path, tmp_path: Path, config: dict) -> None:
    training = dict(FAST, epochs=6)
    first = train(patches, ["alpha_word"], tmp_path / "a", model=config, training=training)
    tables = read_outputs(first)
    accuracy = tables["metrics"].query("metric == 'accuracy'")["value"].mean()
    assert accuracy > 0.6  # chance is 1/3
    again = read_outputs(train(patches, ["alpha_word"], tmp_path / "b", model=config,
                               training=training))
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, again[name], obj=name)


def test_pair_efficiency_against_two_singles(patches: Path, tmp_path: Path) -> None:
    out = train(patches, ["alpha_speaker", "alpha_word"], tmp_path / "pair", model=CNN,
                training=dict(FAST, epochs=1))
    figures = json.loads((out / "efficiency.json").read_text())
    seeds = RunSeeds(0, 0)
    singles = [build_model(CNN, (FRAMES, BANDS), {t: n}, seeds)
               for t, n in (("alpha_speaker", 2), ("alpha_word", 3))]
    pair = build_model(CNN, (FRAMES, BANDS), {"alpha_speaker": 2, "alpha_word": 3}, seeds)
    two = sum(count_parameters(m) for m in singles)
    assert figures["two_singles"]["n_parameters"] == two
    assert figures["vs_two_singles"]["n_parameters"] == pytest.approx(count_parameters(pair) / two)
    assert 0.5 < figures["vs_two_singles"]["flops_per_clip"] < 0.6  # one shared encoder, not two
    assert "latency_ms_per_clip" not in figures  # measured by benchmarks/latency.py, not stored
    assert figures["input_shape"] == [FRAMES, BANDS]
