"""Catalogue (docs/bad-inputs.md): config mistakes stopped before any job, and datasets that change
after a finished run (Snakemake runs, marked `workflow`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import folders_dataset, write_wav
from study_data import REPO, noise_dataset, planned_jobs, run_snakemake, snakemake_command

from analysis.config_checks import top_level_problem

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
STUDY = {
    "sample_rate": 8000,
    "folds": 2,
    "gain_metric": "accuracy",
    "features": {"extractor": "logfbank_summary", "params": {"n_mels": 8}},
    "model": {"type": "dnn", "hidden": [8], "dropout": 0.0},
    "training": {"epochs": 1, "batch_size": 16, "seeds": [0]},
    "analysis": {"repetitions": 2, "cv_folds": 2, "seed": 0},
    "datasets": {
        "animals": {"reader": "folders", "path": "data/animals", "tasks": {"animals_kind": "label"},
                    "metadata": {"path": "meta.csv", "on": "label"}},
        "noise": {"reader": "manifest", "path": "data/noise", "tasks": {"noise_colour": "colour"}},
    },
}


def make_study(folder: Path) -> Path:
    animals = folders_dataset(folder / "data" / "animals", per_class=4)
    pd.DataFrame({"label": ["cat", "dog"], "legs": ["4", "4"]}).to_csv(animals / "meta.csv", index=False)
    noise_dataset(folder / "data" / "noise", per_class=4)
    return folder


def stopped_before_any_job(result, folder: Path) -> str:
    assert result.returncode != 0
    assert not (folder / "results").exists(), "a config error left results behind"
    return result.stdout + result.stderr


# Config mistakes ------------------------------------------------------------------------------------


def test_unknown_top_level_key():
    message = top_level_problem({"datasets": {}, "trainig": {}}, SCHEMA)
    assert message.startswith("config: unknown top-level key(s) ['trainig']; the allowed keys are [")
    assert "'training'" in message and "\n" not in message


def test_datasets_and_external():
    message = top_level_problem({"datasets": {"a": {}}, "external_results": "elsewhere"}, SCHEMA)
    assert "both `datasets` and `external_results` are set" in message and "Remove one of them" in message


@pytest.mark.workflow
def test_unknown_top_level_key_in_a_run(tmp_path):
    stderr = stopped_before_any_job(run_snakemake(make_study(tmp_path), STUDY | {"trainig": {}}, "-n"), tmp_path)
    assert "unknown top-level key(s) ['trainig']" in stderr
    assert len(stderr.splitlines()) < 40, "the message must not be a schema dump"


@pytest.mark.workflow
def test_datasets_and_external_in_a_run(tmp_path):
    config = STUDY | {"external_results": "elsewhere"}
    stderr = stopped_before_any_job(run_snakemake(make_study(tmp_path), config, "-n"), tmp_path)
    assert "both `datasets` and `external_results` are set" in stderr and len(stderr.splitlines()) < 40


@pytest.mark.workflow
def test_wrong_config_type(tmp_path):
    stderr = stopped_before_any_job(run_snakemake(make_study(tmp_path), STUDY | {"folds": "five"}, "-n"), tmp_path)
    assert "folds" in stderr and "'five' is not of type 'integer'" in stderr


@pytest.mark.workflow
def test_exponent_number_in_a_run(tmp_path):
    config = STUDY | {"training": STUDY["training"] | {"learning_rate": "1e-3"}}
    result = run_snakemake(make_study(tmp_path), config, "-n")
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.workflow
def test_yaml_boolean_key_in_a_run(tmp_path):
    """`on:` written unquoted, as a person writes it (the test helper's safe_dump would quote it)."""
    study = make_study(tmp_path)
    text = yaml.safe_dump(STUDY, sort_keys=False).replace("'on':", "on:")
    assert "    on: label" in text
    (study / "by_hand.yaml").write_text(text)
    command = snakemake_command(study, STUDY, "-n")
    command[command.index("--configfile") + 1] = str(study / "by_hand.yaml")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.workflow
def test_duplicate_task_names(tmp_path):
    datasets = STUDY["datasets"] | {"noise": STUDY["datasets"]["noise"] | {"tasks": {"animals_kind": "colour"}}}
    stderr = stopped_before_any_job(run_snakemake(make_study(tmp_path), STUDY | {"datasets": datasets}, "-n"), tmp_path)
    assert "task 'animals_kind' is declared by datasets.animals.tasks and datasets.noise.tasks" in stderr


@pytest.mark.workflow
def test_one_task_only(tmp_path):
    config = STUDY | {"datasets": {"noise": STUDY["datasets"]["noise"]}}
    stderr = stopped_before_any_job(run_snakemake(make_study(tmp_path), config, "-n"), tmp_path)
    assert "the study needs at least two tasks" in stderr


@pytest.mark.workflow
@pytest.mark.parametrize("psds", [{"alpha_ct": 1.0}, {"cttc_threshold": 0.3}])
def test_psds_cross_trigger_half_set(tmp_path, psds):
    config = STUDY | {"detection": {"psds": psds}}
    stderr = stopped_before_any_job(run_snakemake(make_study(tmp_path), config, "-n"), tmp_path)
    assert "config detection.psds: cttc_threshold and alpha_ct go together" in stderr


@pytest.mark.workflow
def test_task_order_in_yaml(tmp_path):
    """The default stratify_by does not depend on the order tasks are written in."""
    study = make_study(tmp_path)
    table = pd.read_csv(study / "data/noise/manifest.csv")
    table["size"] = ["big", "small"] * (len(table) // 2)
    table.to_csv(study / "data/noise/manifest.csv", index=False)
    tasks = {"noise_size": "size", "noise_colour": "colour"}
    config = STUDY | {"datasets": {"noise": STUDY["datasets"]["noise"] | {"tasks": tasks}}}
    result = run_snakemake(study, config, "results/splits/noise.parquet")
    assert result.returncode == 0, result.stderr[-3000:]
    reordered = {"noise": config["datasets"]["noise"] | {"tasks": dict(reversed(list(tasks.items())))}}
    result = run_snakemake(study, config | {"datasets": reordered}, "-n", "results/splits/noise.parquet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


# Datasets that change after a finished run -------------------------------------------------------


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory) -> Path:
    study = make_study(tmp_path_factory.mktemp("stale"))
    result = run_snakemake(study, STUDY)
    assert result.returncode == 0, result.stderr[-4000:]
    return study


def ran(result) -> dict[str, set[str]]:
    assert result.returncode == 0, result.stderr[-4000:]
    return {rule: outputs for rule, outputs in planned_jobs(result.stdout + result.stderr).items() if rule != "all"}


@pytest.mark.workflow
def test_stale_dataset_touched_file_reruns_nothing_after_indexing(finished_study):
    wav = finished_study / "data/animals/cat/cat_0.wav"
    later = time.time() + 5
    os.utime(wav, (later, later))
    assert ran(run_snakemake(finished_study, STUDY)) == {
        "index_dataset": {"results/datasets/animals/manifest.parquet"}
    }
    assert "Nothing to be done" in run_snakemake(finished_study, STUDY, "-n").stdout


@pytest.mark.workflow
def test_stale_dataset_added_file_reruns_its_jobs_only(finished_study):
    write_wav(finished_study / "data/animals/dog/dog_new.wav")
    jobs = ran(run_snakemake(finished_study, STUDY))
    assert jobs["index_dataset"] == {"results/datasets/animals/manifest.parquet"}
    assert jobs["extract_features"] == {"results/features/logfbank_summary/animals.npy"}
    assert jobs["make_splits"] == {"results/splits/animals.parquet"}
    assert jobs["train_model"] == {"results/models/single/animals_kind/metrics.parquet",
                                   "results/models/pair/animals_kind__noise_colour/metrics.parquet"}
    manifest = pd.read_parquet(finished_study / "results/datasets/animals/manifest.parquet")
    assert "dog/dog_new.wav" in set(manifest["clip_id"]) and len(manifest) == 9
    assert not any("noise" in output for outputs in jobs.values() for output in outputs if "pair" not in output)


@pytest.mark.workflow
def test_stale_dataset_removed_file_and_edited_table_reindex(finished_study):
    planned = lambda: planned_jobs(run_snakemake(finished_study, STUDY, "-n").stdout)  # noqa: E731
    assert "index_dataset" not in planned()
    moved = finished_study / "cat_1.wav"
    shutil.move(finished_study / "data/animals/cat/cat_1.wav", moved)
    assert planned()["index_dataset"] == {"results/datasets/animals/manifest.parquet"}
    shutil.move(moved, finished_study / "data/animals/cat/cat_1.wav")
    assert "index_dataset" not in planned()  # the same files again: nothing to redo
    pd.DataFrame({"label": ["cat", "dog"], "legs": ["4", "3"]}).to_csv(
        finished_study / "data/animals/meta.csv", index=False
    )
    assert planned()["index_dataset"] == {"results/datasets/animals/manifest.parquet"}


@pytest.mark.workflow
def test_numeric_label_keys_in_a_run(tmp_path):
    """`03:` beside `'08':` (an int and a str key) used to stop the workflow with a TypeError."""
    derive = {"legs_code": {"from": "legs", "values": {3: "three", "08": "eight"}}}
    datasets = STUDY["datasets"] | {"animals": STUDY["datasets"]["animals"] | {"derive": derive}}
    result = run_snakemake(make_study(tmp_path), STUDY | {"datasets": datasets}, "-n")
    assert result.returncode == 0, result.stdout[-3000:]
