"""One row of numeric features per task (dataset, information, audio, learning curve), and the
non-numeric factors of each task (dataset, domain, label type) used to group pairs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from analysis.config import default
from analysis.corpora.tasks import TaskSpec, task_labels
from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.meta.dataset import (
    audio_features,
    dataset_features,
    dataset_size,
    label_tokens,
    labelled_clips,
)
from analysis.meta.information import information_features
from analysis.meta.learning_curve import curve_features

logger = logging.getLogger(__name__)

FACTOR_COLUMNS = ["task", "dataset", "domain", "label_type", "task_type"]


def _read_per_dataset(datasets: list[str], paths: dict[str, str], what: str) -> dict[str, pd.DataFrame]:
    unknown = [dataset for dataset in datasets if dataset not in paths]
    if unknown:
        raise StudyInputError(f"no {what} given for dataset(s) {unknown} used by the tasks")
    for dataset in datasets:
        if not Path(paths[dataset]).exists():
            raise StudyInputError(f"{what} of dataset {dataset!r} not found: {paths[dataset]}")
    return {dataset: read_table(paths[dataset]) for dataset in datasets}


def task_curves(curves: pd.DataFrame, task: str, source: str) -> pd.DataFrame:
    selected = curves[curves["task"] == task]
    if selected.empty:
        raise StudyInputError(f"{source} has no single-task learning curve of task {task!r}")
    return selected


def one_task_features(spec: TaskSpec, manifest: pd.DataFrame, audio_stats: pd.DataFrame | None,
                      curves: pd.DataFrame, curves_source: str) -> dict[str, float | str]:
    source = f"manifest of dataset {spec.dataset!r}"
    labels = task_labels(manifest, spec)
    clips = labelled_clips(manifest, labels, spec.name, source=source)
    tokens = label_tokens(clips["label"], multilabel=spec.type == "multilabel")
    return {
        "task": spec.name,
        **dataset_features(clips, tokens),
        **dataset_size(manifest, audio_stats),
        **information_features(tokens),
        **audio_features(clips, audio_stats),
        **curve_features(task_curves(curves, spec.name, curves_source)),
    }


def task_features_table(tasks: dict[str, dict], manifests: dict[str, pd.DataFrame],
                        curves: pd.DataFrame, audio_stats: dict[str, pd.DataFrame] | None = None,
                        curves_source: str = "curves") -> pd.DataFrame:
    """`tasks` maps a task name to the dict `TaskSpec.from_config` reads (dataset, label, ...)."""
    audio_stats = audio_stats or {}
    rows = []
    for name, options in sorted(tasks.items()):
        spec = TaskSpec.from_config(name, options)
        rows.append(one_task_features(spec, manifests[spec.dataset], audio_stats.get(spec.dataset),
                                      curves, curves_source))
    return pd.DataFrame(rows)


def task_factors_table(tasks: dict[str, dict], factors: dict[str, dict]) -> pd.DataFrame:
    """task, dataset, domain, label_type, task_type; a factor not declared in config is missing."""
    rows = [{"task": name, "dataset": options["dataset"],
             "domain": factors.get(options["dataset"], {}).get("domain"),
             "label_type": factors.get(options["dataset"], {}).get("label_type"),
             "task_type": options.get("type", default("task", "type"))}
            for name, options in sorted(tasks.items())]
    return pd.DataFrame(rows, columns=FACTOR_COLUMNS).astype("string")


def write_task_features(tasks: dict[str, dict], manifests: dict[str, str], curves_path: str,
                        out: str, audio_stats: dict[str, str] | None = None,
                        factors: dict[str, dict] | None = None,
                        factors_out: str | None = None) -> None:
    """Write `task_features.parquet` (`task` then numeric columns) and optionally the factors.

    `manifests` and `audio_stats` map a dataset to its `manifest.parquet` and `audio_stats.parquet`;
    `curves_path` is the study's single-task `curves.parquet`; `factors` maps a dataset to its
    `domain` and `label_type` from the config.
    """
    if not tasks:
        raise StudyInputError("no tasks given: nothing to compute task features for")
    datasets = sorted({spec["dataset"] for spec in tasks.values()})
    manifest_tables = _read_per_dataset(datasets, manifests, "manifest")
    stats_tables = (_read_per_dataset(datasets, audio_stats, "audio statistics")
                    if audio_stats is not None else None)
    table = task_features_table(tasks, manifest_tables, read_table(curves_path), stats_tables,
                                curves_source=str(curves_path))
    logger.info("task features: %d tasks x %d features", len(table), table.shape[1] - 1)
    factor_table = task_factors_table(tasks, factors or {})
    write_table(table, out)
    if factors_out is not None:
        write_table(factor_table, factors_out)


def write_task_features_csv(features_path: str, out_csv: str) -> None:
    """The task-feature table as CSV, for people and the report."""
    write_table(read_table(features_path), out_csv)
