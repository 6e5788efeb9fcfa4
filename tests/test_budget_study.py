"""Budgeted studies and task groups in the workflow (Snakemake runs, marked `workflow`)."""

from __future__ import annotations

import os
import shutil
import time
from itertools import permutations

import pandas as pd
import pytest
from study_data import (
    BASE_CONFIG,
    chirps_dataset,
    noise_dataset,
    planned_jobs,
    tones_dataset,
    trained_models,
)
from study_data import run_snakemake as snakemake

pytestmark = pytest.mark.workflow

CHIRPS = {"reader": "manifest", "path": "data/chirps", "tasks": {"chirps_direction": "direction"}}
STUDY = BASE_CONFIG | {"datasets": BASE_CONFIG["datasets"] | {"chirps": CHIRPS}}
TASKS = ["chirps_direction", "noise_colour", "tones_level", "tones_pitch"]


def study_folder(folder):
    tones_dataset(folder / "data" / "tones")
    noise_dataset(folder / "data" / "noise")
    chirps_dataset(folder / "data" / "chirps")
    return folder


def plant_affinity(study, best: dict[str, str]) -> None:
    """Run the affinity checkpoint, then overwrite its table with one where `best[main]` is each
    main task's best partner (newer than the checkpoint's inputs, so it counts as up to date)."""
    result = snakemake(study, STUDY | {"pairs": {"select": "affinity", "per_task": 1}}, "results/analysis/affinity.csv")
    assert result.returncode == 0, result.stderr[-4000:]
    rows = [{"main": m, "aux": a, "lookahead": float(best[m] == a), "cosine": 0.0, "n": 1}
            for m, a in permutations(TASKS, 2)]
    path = study / "results/analysis/affinity.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    later = time.time() + 5
    os.utime(path, (later, later))


def test_affinity_budget_schedules_each_main_tasks_best_partners_only(tmp_path):
    study = study_folder(tmp_path)
    best = {"chirps_direction": "noise_colour", "noise_colour": "chirps_direction",
            "tones_level": "tones_pitch", "tones_pitch": "noise_colour"}
    plant_affinity(study, best)
    result = snakemake(study, STUDY | {"pairs": {"select": "affinity", "per_task": 1}}, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    pairs = trained_models(planned_jobs(result.stdout), "pair")
    expected = {"chirps_direction__noise_colour", "noise_colour__tones_pitch", "tones_level__tones_pitch"}
    assert pairs == {f"results/models/pair/{name}/metrics.parquet" for name in expected}
    assert len(pairs) <= len(TASKS) * 1


def test_affinity_budget_of_two_schedules_at_most_two_pair_models_per_main_task(tmp_path):
    study = study_folder(tmp_path)
    plant_affinity(study, {task: "tones_pitch" if task != "tones_pitch" else "tones_level" for task in TASKS})
    result = snakemake(study, STUDY | {"pairs": {"select": "affinity", "per_task": 2}}, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    pairs = trained_models(planned_jobs(result.stdout), "pair")
    assert 0 < len(pairs) <= len(TASKS) * 2


def test_budgeted_study_with_groups_runs_to_its_report(tmp_path):
    """The full run of a budgeted study (one partner per main task) with two task groups: the chosen
    pairs only, the groups' models, their gains, the chosen partners beside their gains, the cost."""
    study = study_folder(tmp_path)
    config = STUDY | {"pairs": {"select": "affinity", "per_task": 1}, "groups": {"networks": 2}}
    result = snakemake(study, config)
    assert result.returncode == 0, result.stderr[-4000:]
    choices = pd.read_csv(study / "results/analysis/pair_choices.csv")
    assert choices.groupby("main").size().max() == 1 and choices["mean_gain"].notna().all()
    groups = pd.read_csv(study / "results/analysis/task_groups.csv")
    assert sorted(groups["task"]) == TASKS and groups["group"].nunique() == 2
    gains = pd.read_csv(study / "results/analysis/group_gains.csv")
    trained = set(groups.loc[groups["size"] > 1, "group"])
    # a group of two whose pair model is trained anyway is that pair model
    assert all(any((study / f"results/models/{kind}/{name}/metrics.parquet").exists() for kind in ("group", "pair"))
               for name in trained)
    assert gains.loc[gains["size"] > 1, "mean_single"].notna().all()
    cost = pd.read_csv(study / "results/analysis/cost.csv").set_index("path")
    assert cost.loc["pairs trained", "models"] <= len(TASKS)
    assert cost.loc["all pairs", "models"] == len(TASKS) * (len(TASKS) - 1) // 2
    assert (study / "results/figures/group_gains.png").exists() and (study / "results/figures/cost.png").exists()
    report = snakemake(study, config, "--report", "report.html")
    assert report.returncode == 0, report.stderr[-4000:]


def test_predicted_budget_fits_on_the_measured_pairs_and_trains_nothing_already_trained(
    finished_study, tmp_path
):
    # On a copy of a finished study every pair model exists: the predicted path only adds the
    # measured study's tables, the meta-model and the choices.
    study = tmp_path / "copy"
    shutil.copytree(finished_study, study, symlinks=True)
    measured = [["tones_pitch", "tones_level"], ["tones_pitch", "noise_colour"]]
    config = BASE_CONFIG | {"pairs": {"select": "predicted", "per_task": 1, "measured": measured}}
    result = snakemake(study, config)
    assert result.returncode == 0, result.stderr[-4000:]
    ran = planned_jobs(result.stdout + result.stderr)
    assert "train_model" not in ran, sorted(ran)
    assert {"measured_study", "measured_task_features", "predicted_gains"} <= set(ran)
    measured_runs = pd.read_parquet(study / "results/budget/measured/runs.parquet")
    assert set(measured_runs["partner"]) == {"", "tones_pitch", "tones_level", "noise_colour"}
    assert not (study / "results/budget/measured/per_class.parquet").exists()
    predicted = pd.read_csv(study / "results/analysis/predicted_gains.csv")
    assert len(predicted) == 6  # every ordered pair of the three tasks
