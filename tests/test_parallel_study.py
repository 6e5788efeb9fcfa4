"""Determinism acceptance: the same small study run with one core and with two parallel jobs, in
two folders, gives identical study tables.

One dataset with two tasks keeps it small: two single-task models and one pair model, which the
two-core run trains side by side. The two runs are started together to save time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from study_data import BASE_CONFIG, snakemake_command, tones_dataset

TABLES = ("runs", "curves", "gains", "task_features")

pytestmark = pytest.mark.workflow

CONFIG = BASE_CONFIG | {  # one dataset, dropout and two seeds: every random stream in play
    "model": {"type": "dnn", "hidden": [16, 16, 16], "dropout": 0.1},
    "training": {"epochs": 3, "batch_size": 8, "seeds": [0, 1]},
    "datasets": {"tones": BASE_CONFIG["datasets"]["tones"]},
}


def start_study(study: Path, cores: int) -> subprocess.Popen:
    tones_dataset(study / "data" / "tones")
    command = snakemake_command(study, CONFIG, "results/study/gains.parquet",
                                "results/study/task_features.parquet", cores=cores)
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_one_core_and_two_parallel_jobs_give_identical_tables(tmp_path: Path) -> None:
    jobs = [start_study(tmp_path / "one", cores=1), start_study(tmp_path / "two", cores=2)]
    for job in jobs:
        _, errors = job.communicate(timeout=600)
        assert job.returncode == 0, errors[-4000:]
    for name in TABLES:
        one = pd.read_parquet(tmp_path / "one" / "results" / "study" / f"{name}.parquet")
        two = pd.read_parquet(tmp_path / "two" / "results" / "study" / f"{name}.parquet")
        assert len(one) > 0, name
        pd.testing.assert_frame_equal(one, two, obj=name)
