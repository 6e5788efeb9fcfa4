"""The task-affinity rules in the small end-to-end study (`finished_study`, conftest.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from study_data import BASE_CONFIG, planned_jobs
from study_data import run_snakemake as snakemake

from analysis.stats.affinity import AFFINITY_COLUMNS
from analysis.stats.affinity_gain import COMPARISON_COLUMNS
from analysis.stats.cost import AFFINITY, COST_COLUMNS, PROBE

pytestmark = pytest.mark.workflow

TASKS = {"tones_pitch", "tones_level", "noise_colour"}


def test_study_writes_affinity_its_comparison_cost_and_figure(finished_study):
    analysis = finished_study / "results/analysis"
    affinity = pd.read_csv(analysis / "affinity.csv")
    assert list(affinity.columns) == AFFINITY_COLUMNS
    assert set(zip(affinity["main"], affinity["aux"])) == {
        (m, a) for m in TASKS for a in TASKS if m != a}
    assert (affinity["n_folds"] == 2).all() and (affinity["n_seeds"] == 1).all()
    comparison = pd.read_csv(analysis / "affinity_vs_gain.csv")
    assert list(comparison.columns) == COMPARISON_COLUMNS
    assert set(comparison["predictor"]) == {
        "affinity_lookahead", "affinity_cosine", "pair_feature_predictor", "size_ratio"}
    cost = pd.read_csv(analysis / "cost.csv").set_index("path")
    assert list(cost.columns) == COST_COLUMNS[1:]
    assert cost.loc["all pairs", "models"] == 3 and not cost.loc["all pairs", "estimated"]
    assert cost.loc[AFFINITY, "models"] == 2  # the all-task model's job and the affinity table's
    assert 0 < cost.loc[PROBE, "cpu_seconds"] < cost.loc[AFFINITY, "cpu_seconds"]
    assert (finished_study / "results/figures/affinity_vs_gain.png").stat().st_size > 1000


def test_changing_the_probe_retrains_the_all_task_model_only(finished_study):
    config = BASE_CONFIG | {"affinity": {"every": 3}}
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout)
    assert "train_model" not in jobs
    assert jobs["train_affinity_model"] == {"results/affinity/model/metrics.parquet"}


def test_changing_top_k_reruns_the_comparison_not_the_model(finished_study):
    config = BASE_CONFIG | {"affinity": {"top_k": 1}}
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout)
    assert "train_affinity_model" not in jobs and "train_model" not in jobs
    assert jobs["affinity_vs_gain"] == {"results/analysis/affinity_vs_gain.csv"}
