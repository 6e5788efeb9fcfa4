"""Workflow tests: Snakemake runs a small generated study from a folder outside the repository."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from study_data import BASE_CONFIG, noise_dataset, planned_jobs, tones_dataset, trained_models
from study_data import run_snakemake as snakemake

pytestmark = pytest.mark.workflow

CHIRPS = {"reader": "manifest", "path": "data/chirps", "tasks": {"chirps_direction": "direction"}}


def test_study_runs_end_to_end_outside_the_repository(finished_study):
    gains = pd.read_parquet(finished_study / "results/study/gains.parquet")
    ordered_pairs = {(m, a) for m, a in zip(gains["main"], gains["aux"])}
    tasks = {"tones_pitch", "tones_level", "noise_colour"}
    assert ordered_pairs == {(m, a) for m in tasks for a in tasks if m != a}
    assert len(gains) == 6 * 2  # six ordered pairs, two folds, one seed
    correlations = pd.read_csv(finished_study / "results/analysis/correlations.csv")
    prefixes = ("main_", "aux_", "main-aux_", "log_main/aux_")  # the calibrated pair features
    assert correlations["feature"].str.startswith(prefixes).all()
    assert set(correlations["unit"]) == {"main task", "auxiliary task", "ordered pair"}
    for figure in ("gain_heatmap.png", "correlations.png", "layer_variances.png"):
        assert (finished_study / "results/figures" / figure).stat().st_size > 1000
    variances = pd.read_csv(finished_study / "results/analysis/layer_variances.csv")
    assert {(m, a) for m, a in zip(variances["main"], variances["aux"])} == ordered_pairs
    assert (variances["single"] > 0).all() and (variances["n_runs"] == 2).all()
    # The study's own config replaces the default one: no demo corpus is rendered.
    assert not (finished_study / "resources").exists()


def test_report_holds_the_figures(finished_study):
    result = snakemake(finished_study, BASE_CONFIG, "--report", "report.html")
    assert result.returncode == 0, result.stderr[-4000:]
    html = (finished_study / "report.html").read_text(errors="replace")
    assert "gain_heatmap.png" in html and "correlations.png" in html


def test_adding_a_dataset_runs_only_what_is_new(finished_study):
    config = BASE_CONFIG | {"datasets": BASE_CONFIG["datasets"] | {"chirps": CHIRPS}}
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout)
    new_pairs = ["chirps_direction__noise_colour", "chirps_direction__tones_level",
                 "chirps_direction__tones_pitch"]
    assert jobs == {
        "index_dataset": {"results/datasets/chirps/manifest.parquet"},
        "extract_features": {"results/features/logfbank_summary/chirps.npy"},
        "make_splits": {"results/splits/chirps.parquet"},
        "audio_stats": {"results/datasets/chirps/audio_stats.parquet"},
        "train_model": {"results/models/single/chirps_direction/metrics.parquet",
                        *(f"results/models/pair/{pair}/metrics.parquet" for pair in new_pairs)},
        "collect_runs": {"results/study/runs.parquet"},
        "task_features": {"results/study/task_features.parquet"},
        "gains": {"results/study/gains.parquet"},
        "pair_features": {"results/study/pair_features.parquet"},
        "correlations": {"results/analysis/correlations.csv"},
        "prediction": {"results/analysis/prediction.csv"},
        "regression": {"results/analysis/regression.csv"},
        "pair_gains": {"results/analysis/pair_gains.csv"},
        "gain_categories": {"results/analysis/gain_categories.csv"},
        "class_gains": {"results/analysis/class_gains.csv"},
        "layer_variances": {"results/analysis/layer_variances.csv"},
        "task_feature_table": {"results/analysis/task_features.csv"},
        "gain_heatmap": {"results/figures/gain_heatmap.png"},
        "gain_category_chart": {"results/figures/gain_categories.png"},
        "class_gain_chart": {"results/figures/class_gains.png"},
        "correlation_chart": {"results/figures/correlations.png"},
        "feature_scatter": {"results/figures/feature_scatter.png"},
        "learning_curve_chart": {"results/figures/learning_curves.png"},
        "prediction_chart": {"results/figures/prediction.png"},
        "layer_variance_chart": {"results/figures/layer_variances.png"},
        # the all-task model holds every task, so a new task retrains it (issue 11)
        "train_affinity_model": {"results/affinity/model/metrics.parquet"},
        "affinity": {"results/analysis/affinity.csv"},
        "affinity_vs_gain": {"results/analysis/affinity_vs_gain.csv"},
        "cost": {"results/analysis/cost.csv"},
        "affinity_chart": {"results/figures/affinity_vs_gain.png"},
        "all": {"all"},
    }


def test_changing_a_hyperparameter_reruns_the_models_only(finished_study):
    config = BASE_CONFIG | {"training": BASE_CONFIG["training"] | {"epochs": 3}}
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout)
    assert len(trained_models(jobs, "single")) == 3 and len(trained_models(jobs, "pair")) == 3
    assert not {"index_dataset", "extract_features", "make_splits"} & set(jobs)


def test_missing_dataset_path_stops_before_any_job(tmp_path):
    config = BASE_CONFIG | {"datasets": BASE_CONFIG["datasets"] | {"chirps": CHIRPS}}
    result = snakemake(tmp_path, config, "--dry-run")
    assert result.returncode != 0
    assert "datasets.tones.path" in result.stderr + result.stdout


def test_config_typo_names_the_field(tmp_path):
    config = BASE_CONFIG | {"training": {"epoch": 3}}
    result = snakemake(tmp_path, config, "--dry-run")
    assert result.returncode != 0
    assert "epoch" in result.stderr + result.stdout


def test_controls_add_a_control_task_and_its_pair_per_task(tmp_path):
    tones_dataset(tmp_path / "data" / "tones")
    noise_dataset(tmp_path / "data" / "noise")
    result = snakemake(tmp_path, BASE_CONFIG | {"controls": True}, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout)
    tasks = ["noise_colour", "tones_level", "tones_pitch"]
    controls = [f"{task}_control" for task in tasks]
    assert trained_models(jobs, "single") == {f"results/models/single/{t}/metrics.parquet"
                                              for t in tasks + controls}
    control_pairs = {f"results/models/pair/{t}__{t}_control/metrics.parquet" for t in tasks}
    pairs = trained_models(jobs, "pair")
    assert control_pairs <= pairs and len(pairs) == 3 + 3


def test_a_task_name_ending_in_control_is_reserved(tmp_path):
    tones_dataset(tmp_path / "data" / "tones")
    noise_dataset(tmp_path / "data" / "noise")
    tones = BASE_CONFIG["datasets"]["tones"] | {"tasks": {"tones_control": "pitch"}}
    config = BASE_CONFIG | {"datasets": BASE_CONFIG["datasets"] | {"tones": tones}}
    result = snakemake(tmp_path, config, "--dry-run")
    assert result.returncode != 0
    assert "datasets.tones.tasks.tones_control" in result.stderr + result.stdout


def test_missing_label_column_stops_before_any_job(tmp_path):
    tones_dataset(tmp_path / "data" / "tones")
    noise_dataset(tmp_path / "data" / "noise")
    datasets = BASE_CONFIG["datasets"] | {
        "noise": {"reader": "manifest", "path": "data/noise", "tasks": {"noise_colour": "color"}}
    }
    result = snakemake(tmp_path, BASE_CONFIG | {"datasets": datasets})
    assert result.returncode != 0
    assert "datasets.noise.tasks.noise_colour" in result.stderr and "'color'" in result.stderr
    assert not (tmp_path / "results").exists()


def test_single_class_task_fails_in_indexing_before_training(tmp_path):
    tones_dataset(tmp_path / "data" / "tones")
    noise = noise_dataset(tmp_path / "data" / "noise")
    manifest = pd.read_csv(noise / "manifest.csv")
    manifest.assign(source="synthetic").to_csv(noise / "manifest.csv", index=False)
    datasets = BASE_CONFIG["datasets"] | {
        "noise": {"reader": "manifest", "path": "data/noise", "tasks": {"noise_source": "source"}}
    }
    result = snakemake(tmp_path, BASE_CONFIG | {"datasets": datasets})
    assert result.returncode != 0
    log = (tmp_path / "logs/index_dataset/noise.log").read_text()
    assert "noise_source" in log and "single class" in log
    assert "noise_source" in result.stderr  # the message reaches the console too
    assert not (tmp_path / "results/datasets/noise/manifest.parquet").exists()
    assert not (tmp_path / "results/models").exists()


def test_too_few_clips_per_class_for_the_folds_names_task_and_class(tmp_path):
    tones_dataset(tmp_path / "data" / "tones")
    noise_dataset(tmp_path / "data" / "noise", per_class=4)
    result = snakemake(tmp_path, BASE_CONFIG | {"folds": 5})
    assert result.returncode != 0
    assert "noise_colour" in result.stderr and "folds" in result.stderr
    assert not (tmp_path / "results/models").exists()


def test_reordering_config_keys_reruns_nothing(finished_study):
    def reversed_keys(value):
        if isinstance(value, dict):
            return {key: reversed_keys(value[key]) for key in reversed(list(value))}
        return value

    config = reversed_keys(BASE_CONFIG)
    config["datasets"]["tones"]["stratify_by"] = "level"  # the default (tones_level sorts first), said explicitly
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_settings_that_change_no_number_rerun_no_training(finished_study):
    """preload_mb (how features are read) and an adapter setting (unused by the DNN) are not
    params of the training jobs."""
    config = BASE_CONFIG | {"training": BASE_CONFIG["training"] | {"preload_mb": 0},
                            "model": BASE_CONFIG.get("model", {}) | {"cost_lambda": 0.5}}
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Nothing to be done" in result.stdout + result.stderr
    hidden = snakemake(finished_study, config | {"model": {"hidden": [8, 4]}}, "--dry-run")
    assert trained_models(planned_jobs(hidden.stdout), "pair"), hidden.stdout[-2000:]


def test_changing_the_checkpoint_schedule_reruns_nothing(finished_study):
    """The schedule is read by the training job from the config, not a rule parameter."""
    config = BASE_CONFIG | {"checkpoints": {"every_epochs": 1, "every_seconds": 5}}
    result = snakemake(finished_study, config, "--dry-run")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Nothing to be done" in result.stdout + result.stderr
    bad = snakemake(finished_study, config | {"checkpoints": {"every_epochs": 0}}, "--dry-run")
    assert bad.returncode != 0 and "every_epochs" in bad.stdout + bad.stderr


def test_a_study_folder_copied_elsewhere_runs_without_retraining(finished_study, tmp_path):
    # A copy that does not keep the audio files' modification times (`cp -r`): the datasets are
    # indexed again, find the same files (manifests store paths relative to the study folder) and
    # nothing downstream runs again; the copy's tables are the original's.
    copy = tmp_path / "copied"
    shutil.copytree(finished_study, copy, symlinks=True)
    for audio in (copy / "data").rglob("*.wav"):
        os.utime(audio, (2_000_000_000, 2_000_000_000))
    shutil.move(finished_study, tmp_path / "original")  # the copy must not read the original
    try:
        result = snakemake(copy, BASE_CONFIG)
    finally:
        shutil.move(tmp_path / "original", finished_study)
    assert result.returncode == 0, result.stderr[-4000:]
    ran = planned_jobs(result.stdout + result.stderr)
    # Nothing is extracted, split or trained again. (Once in CI, under load, Snakemake's re-evaluation
    # after the index_dataset checkpoint reran the cheap analysis jobs too: "input files updated by
    # another job" though no training job ran; not reproduced in a sequential run.)
    expensive = {"extract_features", "make_splits", "train_model", "train_affinity_model"}
    assert not expensive & set(ran), sorted(ran)
    for table in ("results/study/runs.parquet", "results/analysis/pair_gains.csv"):
        assert (copy / table).read_bytes() == (finished_study / table).read_bytes(), table
