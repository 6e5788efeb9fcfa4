"""One row of numeric features per task: dataset, information-theoretic, learning-curve features."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.meta.dataset import dataset_features, labelled_clips
from analysis.meta.information import information_features
from analysis.meta.learning_curve import curve_features

logger = logging.getLogger(__name__)


def read_manifests(tasks: dict[str, dict], manifests: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The manifest of every dataset a task uses, read once each."""
    datasets = sorted({spec["dataset"] for spec in tasks.values()})
    unknown = [dataset for dataset in datasets if dataset not in manifests]
    if unknown:
        raise StudyInputError(f"no manifest given for dataset(s) {unknown} used by the tasks")
    for dataset in datasets:
        if not Path(manifests[dataset]).exists():
            raise StudyInputError(
                f"manifest of dataset {dataset!r} not found: {manifests[dataset]}")
    return {dataset: read_table(manifests[dataset]) for dataset in datasets}


def task_curves(curves: pd.DataFrame, task: str, source: str) -> pd.DataFrame:
    selected = curves[curves["task"] == task]
    if selected.empty:
        raise StudyInputError(f"{source} has no single-task learning curve of task {task!r}")
    return selected


def one_task_features(task: str, spec: dict, manifest: pd.DataFrame, curves: pd.DataFrame,
                      source: str) -> dict[str, float | str]:
    label = spec["label"]
    clips = labelled_clips(manifest, label, source=f"manifest of dataset {spec['dataset']!r}")
    return {
        "task": task,
        **dataset_features(clips, label),
        **information_features(clips[label]),
        **curve_features(task_curves(curves, task, source)),
    }


def task_features_table(tasks: dict[str, dict], manifests: dict[str, pd.DataFrame],
                        curves: pd.DataFrame, curves_source: str = "curves") -> pd.DataFrame:
    rows = [one_task_features(task, spec, manifests[spec["dataset"]], curves, curves_source)
            for task, spec in sorted(tasks.items())]
    return pd.DataFrame(rows)


def write_task_features(tasks: dict[str, dict], manifests: dict[str, str], curves_path: str,
                        out: str) -> None:
    """Write `task_features.parquet`: one row per task, `task` then numeric feature columns.

    `tasks` maps a task to `{"dataset": ..., "label": ...}`; `manifests` maps a dataset to its
    `manifest.parquet`; `curves_path` is the study's single-task `curves.parquet`.
    """
    if not tasks:
        raise StudyInputError("no tasks given: nothing to compute task features for")
    table = task_features_table(tasks, read_manifests(tasks, manifests), read_table(curves_path),
                                curves_source=str(curves_path))
    logger.info("task features: %d tasks x %d features", len(table), table.shape[1] - 1)
    write_table(table, out)
