"""The task-affinity probe (analysis.mtl.affinity): a measurement that changes nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_mtl import MODEL, TASKS, TRAINING, dataset_paths, read_outputs, train

from analysis.errors import StudyInputError
from analysis.mtl.affinity import (
    affinity_settings,
    measure_affinity,
    shared_parameters,
    train_affinity_model,
)
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.tasks import MISSING, MulticlassTask, Task

THREE = ["alpha_speaker", "alpha_word", "beta_scene"]


def _tasks_and_batch() -> tuple[torch.nn.Module, list[Task], torch.Tensor, torch.Tensor]:
    """A 3-task dnn and a budget-style batch: every row counts for one task only."""
    tasks = [MulticlassTask(name, "d", name, tuple(map(str, range(n))))
             for name, n in (("a", 3), ("b", 2), ("c", 4))]
    model = build_model(MODEL, (8,), {t.name: t.n_outputs for t in tasks}, RunSeeds(seed=0, fold=0))
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(12, 8, generator=generator)
    y = torch.full((12, 3), MISSING, dtype=torch.int64)
    for column, task in enumerate(tasks):
        y[4 * column: 4 * column + 4, column] = torch.randint(
            0, task.n_outputs, (4,), generator=generator)
    return model, tasks, x, y


def _by_hand(model, tasks, x, y, main: int, aux: int, step_size: float) -> tuple[float, float]:
    """Lookahead and cosine computed the plain way: a copy of the model stepped by SGD."""
    def loss_of(net: torch.nn.Module, column: int) -> torch.Tensor:
        rows = y[:, column] != MISSING
        return tasks[column].loss(net(x[rows])[tasks[column].name], y[rows, column])

    net = copy.deepcopy(model).eval()
    shared = list(shared_parameters(net).values())
    gradients = [torch.autograd.grad(loss_of(net, c), shared) for c in (main, aux)]
    flat = [torch.cat([g.reshape(-1) for g in grads]) for grads in gradients]
    before = float(loss_of(net, main).detach())
    with torch.no_grad():
        for parameter, g in zip(shared, gradients[1]):
            parameter -= step_size * g
        after = float(loss_of(net, main))
    return 1.0 - after / before, float(torch.nn.functional.cosine_similarity(*flat, dim=0))


def test_probe_matches_a_hand_computed_lookahead_and_cosine() -> None:
    model, tasks, x, y = _tasks_and_batch()
    rows = {(m, a): (z, c) for m, a, z, c in measure_affinity(model, tasks, x, y, 0.5)}
    assert len(rows) == 6  # every ordered pair of 3 tasks
    for main, aux in [(0, 1), (1, 0), (2, 0), (1, 2)]:
        expected = _by_hand(model, tasks, x, y, main, aux, 0.5)
        got = rows[(tasks[main].name, tasks[aux].name)]
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_probe_leaves_model_generators_and_mode_as_they_were() -> None:
    model, tasks, x, y = _tasks_and_batch()
    model.train()
    dropout = torch.Generator().manual_seed(3)
    model.set_dropout_generator(dropout)
    before = copy.deepcopy(model.state_dict())
    states = (dropout.get_state(), torch.get_rng_state())
    measure_affinity(model, tasks, x, y, 0.5)
    assert model.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(dropout.get_state(), states[0])
    assert torch.equal(torch.get_rng_state(), states[1])


def _train_with_probe(root: Path, tasks: dict, out: Path, training: dict = TRAINING,
                      folds: int | None = None) -> Path:
    datasets = sorted({spec["dataset"] for spec in tasks.values()})
    paths = {d: dataset_paths(root, d) for d in datasets}
    train_affinity_model(
        out_dir=str(out), affinity={"every": 1, "folds": folds}, tasks=tasks,
        manifests={d: str(p["manifest"]) for d, p in paths.items()},
        features={d: str(p["features"]) for d, p in paths.items()},
        splits={d: str(p["splits"]) for d, p in paths.items()},
        model=MODEL, training=training, progress=False,
    )
    return out


def test_training_with_the_probe_gives_the_weights_of_training_without(
    study: Path, tmp_path: Path
) -> None:
    short = TRAINING | {"epochs": 2}
    probed = _train_with_probe(study, {t: TASKS[t] for t in THREE}, tmp_path / "probed", short)
    plain = train(study, THREE, tmp_path / "plain", checkpoints=None, training=short)
    for name, table in read_outputs(plain).items():  # every step's losses and every score
        pd.testing.assert_frame_equal(table, read_outputs(probed)[name], obj=name)
    probes = pd.read_parquet(probed / "probe.parquet")
    assert set(zip(probes["main"], probes["aux"])) == {
        (m, a) for m in THREE for a in THREE if m != a
    }
    assert set(probes["fold"]) == {0, 1, 2}
    cost = pd.read_json(probed / "probe_cost.json", typ="series")
    assert 0 < cost["probe_cpu_s"] < cost["training_cpu_s"]


def test_a_copy_of_a_task_is_its_closest_partner_and_a_shuffled_copy_its_farthest(
    study: Path, tmp_path: Path
) -> None:
    word = TASKS["alpha_word"]
    tasks = {"alpha_word": word, "copy": dict(word), "shuffled": {**word, "control": True},
             "beta_scene": TASKS["beta_scene"]}
    out = _train_with_probe(study, tasks, tmp_path / "m", folds=2)
    probes = pd.read_parquet(out / "probe.parquet")
    assert set(probes["fold"]) == {0, 1}  # affinity.folds: the first two test folds only
    assert set(pd.read_parquet(out / "metrics.parquet")["fold"]) == {0, 1}
    to_word = probes[probes["main"] == "alpha_word"].groupby("aux")[["lookahead", "cosine"]].mean()
    for column in ("lookahead", "cosine"):
        assert to_word[column].idxmax() == "copy"
        assert to_word[column].idxmin() == "shuffled" or abs(to_word.loc["shuffled", column]) < 0.05


def test_affinity_settings_default_from_the_schema_and_name_the_field() -> None:
    assert affinity_settings(None, {"learning_rate": 0.02}) == (25, 0.02, None)
    assert affinity_settings({"every": 3, "step_size": 0.5, "folds": 2}, {}) == (3, 0.5, 2)
    with pytest.raises(StudyInputError, match="affinity.every"):
        affinity_settings({"every": 0}, {})
