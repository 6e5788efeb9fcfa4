"""The transfer part of the DAG (`transfer.enabled`): dry runs, and one small study end to end."""

from __future__ import annotations

import pandas as pd
import pytest
from study_data import BASE_CONFIG, noise_dataset, planned_jobs, tones_dataset
from study_data import run_snakemake as snakemake

from analysis.config import section

TASKS = ["noise_colour", "tones_level", "tones_pitch"]
TRANSFER = {"enabled": True, "costs": [0.3, 1.0], "search_epochs": 1, "policy_steps": 50}


def _study(tmp_path):
    tones_dataset(tmp_path / "data" / "tones")
    noise_dataset(tmp_path / "data" / "noise")
    return tmp_path


@pytest.mark.workflow
def test_transfer_adds_one_pretraining_per_task_and_one_transfer_per_ordered_pair(tmp_path):
    result = snakemake(_study(tmp_path), BASE_CONFIG | {"transfer": TRANSFER}, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout)
    assert jobs["pretrain_source"] == {f"results/transfer/pretrained/{t}.pt" for t in TASKS}
    assert jobs["transfer_model"] == {f"results/transfer/models/{s}/{t}/metrics.parquet"
                                      for s in TASKS for t in TASKS if s != t}
    for rule in ("collect_transfer", "transfer_gains", "transfer_analysis", "transfer_charts"):
        assert len(jobs[rule]) == 1, rule


def test_transfer_is_off_by_default():
    """The default study plans no transfer job: `transfer_targets()` is empty unless enabled."""
    assert section("transfer")["enabled"] is False


@pytest.mark.workflow
def test_transfer_study_runs_end_to_end(tmp_path):
    targets = ("results/analysis/transfer_vs_mtl.csv", "results/figures/transfer_vs_mtl.png",
               "results/figures/transfer_cost.png")  # the transfer branch, not the whole report
    result = snakemake(_study(tmp_path), BASE_CONFIG | {"transfer": TRANSFER}, *targets)
    assert result.returncode == 0, result.stderr[-4000:]
    versus = pd.read_csv(tmp_path / "results/analysis/transfer_vs_mtl.csv")
    settings = set(zip(versus["method"], versus["cost"].fillna(-1)))
    assert settings == {("swr", 0.3), ("swr", 1.0), ("finetune", -1), ("head_only", -1)}
    assert len(versus) == 4 * 6  # four settings, six ordered pairs
    gains = pd.read_parquet(tmp_path / "results/study/transfer_gains.parquet")
    assert gains["changed_share"].between(0, 1).all()
    for figure in ("transfer_vs_mtl.png", "transfer_cost.png"):
        assert (tmp_path / "results/figures" / figure).stat().st_size > 1000
