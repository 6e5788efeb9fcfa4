"""The study through the SLURM profile (workflow/profiles/slurm) on a real cluster.

CI starts a single-node cluster with tests/cluster/start_slurm.sh (partitions `main` and `short`, the
latter with a one-minute limit) before pytest; without a cluster answering `sinfo`, or without the
executor plugin (pip install -e ".[slurm]"), these tests are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from study_data import BASE_CONFIG, REPO, noise_dataset, snakemake_command, tones_dataset

PROFILE = REPO / "workflow/profiles/slurm"


PLUGIN_PROBLEM = (
    'snakemake-executor-plugin-slurm is not installed (pip install -e ".[slurm]")'
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None else None
)


def _cluster_problem() -> str | None:
    """Why the cluster tests cannot run here, or None."""
    if PLUGIN_PROBLEM:
        return PLUGIN_PROBLEM
    if shutil.which("sinfo") is None:
        return "no SLURM here (sinfo not found); start one with tests/cluster/start_slurm.sh as root"
    try:
        states = subprocess.run(["sinfo", "-h", "-o", "%P %T"], capture_output=True, text=True,
                                timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo does not answer; start a cluster with tests/cluster/start_slurm.sh as root"
    if states.returncode != 0 or not re.search(r"\b(idle|mixed|allocated)\b", states.stdout):
        return ("no SLURM cluster answers sinfo with a usable node "
                f"({(states.stdout + states.stderr).strip()[:200]!r}); start one with "
                "tests/cluster/start_slurm.sh as root")
    return None


pytestmark = pytest.mark.workflow
needs_plugin = pytest.mark.skipif(PLUGIN_PROBLEM is not None, reason=str(PLUGIN_PROBLEM))


@pytest.fixture(scope="module")
def slurm_cluster() -> None:
    """Skip, with the reason, unless a SLURM cluster answers (asked only when such a test runs)."""
    problem = _cluster_problem()
    if problem:
        pytest.skip(problem)

CONFIG = BASE_CONFIG  # two datasets, three tasks, two folds, two epochs
# The study tables (every model's scores and curves, task features, gains) and one analysis table.
TABLES = ["results/study/runs.parquet", "results/study/curves.parquet",
          "results/study/per_class.parquet", "results/study/task_features.parquet",
          "results/study/gains.parquet", "results/analysis/pair_gains.csv"]


def run(study: Path, config: dict, *args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(study, config, *args), capture_output=True, text=True,
                          timeout=timeout)


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def make_study(folder: Path, per_class: int = 8) -> Path:
    tones_dataset(folder / "data/tones", per_class=per_class)
    noise_dataset(folder / "data/noise", per_class=per_class)
    return folder


def test_no_dataset_path_is_looked_at_while_the_snakefile_is_parsed(tmp_path):
    # Every SLURM job parses the Snakefile again on its node: only building the DAG of the jobs
    # that read a dataset looks at its folder, with the message naming the field.
    result = run(tmp_path, CONFIG, "--list-rules", timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "train_model" in result.stdout
    result = run(tmp_path, CONFIG, "--dry-run", timeout=300)
    assert result.returncode != 0
    assert "datasets.tones.path" in result.stdout + result.stderr


@needs_plugin
def test_profile_dry_run_lists_training_jobs_with_memory_and_runtime(tmp_path):
    study = make_study(tmp_path)
    result = run(study, CONFIG, "--profile", str(PROFILE), "--dry-run", timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    blocks = re.split(r"\n(?=\[|rule |localrule )", result.stdout)
    training = [block for block in blocks if re.match(r"rule train_model:", block.strip())]
    assert len(training) == 3 + 3
    for block in training:
        assert re.search(r"mem_mb=\d+", block) and re.search(r"runtime=\d+", block), block


def test_study_through_slurm_equals_a_local_run(slurm_cluster, finished_study, tmp_path):
    local = finished_study  # CONFIG run on this machine, on the same generated datasets
    cluster = make_study(tmp_path / "cluster")
    result = run(cluster, CONFIG, "--profile", str(PROFILE), *TABLES)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-4000:]
    # The training jobs went through SLURM; the cheap table jobs ran on this machine.
    assert re.search(r"Job \d+ has been submitted with SLURM jobid \d+", result.stdout + result.stderr)
    assert re.search(r"localrule (gains|pair_gains|collect_runs):", result.stdout + result.stderr)
    # The study's config replaced config.yaml under the profile too: no demo corpus was rendered.
    assert not (cluster / "resources").exists()
    for table in TABLES:
        pd.testing.assert_frame_equal(read(cluster / table), read(local / table), obj=table)


# A single-task model that trains longer than the `short` partition's one-minute limit: the first
# attempt is stopped at the limit (SIGTERM, then SIGKILL), the retry resumes from the checkpoint of
# the last finished epoch or the one saved on SIGTERM, and the job completes within a few attempts
# on a quiet machine. On a loaded one most of an attempt's minute goes to Snakemake starting inside
# the job (seen: 5-25 s of training per attempt), hence the generous retries.
LONG_CONFIG = CONFIG | {
    "model": {"type": "dnn", "hidden": [512, 512, 512], "dropout": 0.0},
    # two folds of 600 epochs: a few attempts' training on a loaded 2-core machine (about 440
    # epochs per attempt), more than one attempt gives on a quiet one
    "training": {"epochs": 600, "batch_size": 2, "seeds": [0]},
}


def test_training_job_at_a_one_minute_limit_completes_by_resuming(slurm_cluster, tmp_path):
    study = make_study(tmp_path, per_class=16)
    target = "results/models/single/tones_level/metrics.parquet"
    short = ["train_model:slurm_partition=short", "train_model:runtime=1",
             "train_model:slurm_extra='--signal=TERM@10'"]
    result = run(study, CONFIG | LONG_CONFIG, "--profile", str(PROFILE), "--retries", "30",
                 "--set-resources", *short, "--", target, timeout=1800)
    log = (study / "logs/train_model/single/tones_level.log").read_text()
    attempts = log.count("===== job attempt ")
    assert result.returncode == 0, log[-3000:] + result.stderr[-3000:]
    assert attempts >= 2, "no retry in the log (did training end within the limit?): " + log[-2000:]
    assert "resuming after epoch" in log, log[-3000:]
    assert len(pd.read_parquet(study / target)) > 0
