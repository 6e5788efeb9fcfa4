"""Collect the per-model metric and curve tables into the study-wide tidy tables.

`runs.parquet` holds every final score of every model with the model's partner task (`""` for a
single-task model); `curves.parquet` holds the training-loss curves of the single-task models, which
the learning-curve task features are computed from; `fold_sizes.parquet` holds the training and
test clip counts of every task's folds, for the corrected test of the gains.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table

logger = logging.getLogger(__name__)

METRIC_COLUMNS = ["task", "fold", "seed", "metric", "value"]
CURVE_COLUMNS = ["task", "fold", "seed", "step", "loss"]
RUN_COLUMNS = ["task", "partner", "fold", "seed", "metric", "value"]
PER_CLASS_SCORES = ["precision", "recall", "f1", "support"]
PER_CLASS_COLUMNS = ["task", "fold", "seed", "class", *PER_CLASS_SCORES]
STUDY_PER_CLASS_COLUMNS = ["task", "partner", "fold", "seed", "class", *PER_CLASS_SCORES]
PAIR_SEPARATOR = "__"
FOLD_SIZE_COLUMNS = ["task", "fold", "n_train", "n_test"]


def split_pair_name(pair: str) -> tuple[str, str]:
    """`"a__b"` -> `("a", "b")`; a pair name must hold exactly two task names."""
    parts = pair.split(PAIR_SEPARATOR)
    if len(parts) != 2 or not all(parts):
        raise StudyInputError(
            f"pair name {pair!r} is not of the form 'task_a{PAIR_SEPARATOR}task_b'")
    return parts[0], parts[1]


def read_model_table(model_dir: str, name: str, columns: list[str]) -> pd.DataFrame:
    """Read `{model_dir}/{name}` and check that it has `columns`."""
    path = Path(model_dir) / name
    if not path.exists():
        raise StudyInputError(f"model output {path} is missing: was the model trained?")
    table = read_table(path)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise StudyInputError(f"{path} lacks the column(s) {missing}; expected {columns}")
    return table[columns]


def _check_tasks(table: pd.DataFrame, expected: set[str], where: str) -> None:
    found = set(table["task"].astype(str))
    if found != expected:
        raise StudyInputError(f"{where} holds tasks {sorted(found)}, expected {sorted(expected)}")


def single_runs(task: str, model_dir: str) -> pd.DataFrame:
    """The final scores of the single-task model of `task`, with an empty partner."""
    metrics = read_model_table(model_dir, "metrics.parquet", METRIC_COLUMNS)
    _check_tasks(metrics, {task}, f"{model_dir}/metrics.parquet")
    return metrics.assign(partner="")[RUN_COLUMNS]


def pair_runs(pair: str, model_dir: str) -> pd.DataFrame:
    """The final scores of both tasks of a dual-task model; each task's partner is the other."""
    task_a, task_b = split_pair_name(pair)
    metrics = read_model_table(model_dir, "metrics.parquet", METRIC_COLUMNS)
    _check_tasks(metrics, {task_a, task_b}, f"{model_dir}/metrics.parquet")
    partner = metrics["task"].astype(str).map({task_a: task_b, task_b: task_a})
    return metrics.assign(partner=partner)[RUN_COLUMNS]


def single_curves(task: str, model_dir: str) -> pd.DataFrame:
    curves = read_model_table(model_dir, "curve.parquet", CURVE_COLUMNS)
    _check_tasks(curves, {task}, f"{model_dir}/curve.parquet")
    return curves


def _tidy(table: pd.DataFrame, keys: list[str], value_types: dict[str, str]) -> pd.DataFrame:
    """Fix the column types and a stable row order, so reruns give identical files."""
    table = table.astype({"task": str, "fold": "int64", "seed": "int64", **value_types})
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def collect_runs(single_dirs: dict[str, str], pair_dirs: dict[str, str]) -> pd.DataFrame:
    parts = [single_runs(task, path) for task, path in sorted(single_dirs.items())]
    parts += [pair_runs(pair, path) for pair, path in sorted(pair_dirs.items())]
    if not parts:
        raise StudyInputError("no model directories given: the study has no runs to collect")
    runs = pd.concat(parts, ignore_index=True)
    keys = ["task", "partner", "metric", "fold", "seed"]
    runs = _tidy(runs, keys, {"partner": str, "metric": str, "value": "float64"})
    duplicated = runs.duplicated(keys)
    if duplicated.any():
        raise StudyInputError(f"duplicated runs (same task, partner, metric, fold, seed):\n"
                              f"{runs.loc[duplicated, keys].head()}")
    return runs


def collect_curves(single_dirs: dict[str, str]) -> pd.DataFrame:
    parts = [single_curves(task, path) for task, path in sorted(single_dirs.items())]
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in
                             zip(CURVE_COLUMNS, [str, "int64", "int64", "int64", "float64"])})
    curves = pd.concat(parts, ignore_index=True)
    return _tidy(curves, ["task", "fold", "seed", "step"], {"step": "int64", "loss": "float64"})


def model_per_class(model_dir: str, partners: dict[str, str]) -> pd.DataFrame | None:
    """A model's per-class scores with each task's partner; None (and a warning) when absent."""
    if not (Path(model_dir) / "per_class.parquet").exists():
        logger.warning("%s/per_class.parquet is missing: no per-class scores for this model",
                       model_dir)
        return None
    table = read_model_table(model_dir, "per_class.parquet", PER_CLASS_COLUMNS)
    _check_tasks(table, set(partners), f"{model_dir}/per_class.parquet")
    return table.assign(partner=table["task"].astype(str).map(partners))


def collect_per_class(single_dirs: dict[str, str], pair_dirs: dict[str, str]) -> pd.DataFrame:
    """task, partner, fold, seed, class, precision, recall, f1, support of every model."""
    parts = [model_per_class(path, {task: ""}) for task, path in sorted(single_dirs.items())]
    for pair, path in sorted(pair_dirs.items()):
        task_a, task_b = split_pair_name(pair)
        parts.append(model_per_class(path, {task_a: task_b, task_b: task_a}))
    parts = [part for part in parts if part is not None]
    if not parts:
        return empty_per_class()
    table = pd.concat(parts, ignore_index=True)[STUDY_PER_CLASS_COLUMNS]
    types = {"partner": str, "class": str, **{c: "float64" for c in PER_CLASS_SCORES}}
    return _tidy(table, ["task", "partner", "class", "fold", "seed"], types)


def empty_per_class() -> pd.DataFrame:
    types = [str, str, "int64", "int64", str, "float64", "float64", "float64", "float64"]
    return pd.DataFrame({column: pd.Series(dtype=dtype)
                         for column, dtype in zip(STUDY_PER_CLASS_COLUMNS, types)})


def single_fold_sizes(task: str, model_dir: str) -> pd.DataFrame:
    """task, fold, n_train, n_test of a single-task model: training clips from `efficiency.json`,
    test clips from the confusion counts (NaN for a multilabel task, which has none)."""
    path = Path(model_dir) / "efficiency.json"
    if not path.exists():
        raise StudyInputError(f"model output {path} is missing: was the model trained?")
    per_fold = json.loads(path.read_text()).get("n_train_clips_per_fold", {}).get(task, {})
    sizes = pd.DataFrame({"task": task, "fold": [int(f) for f in per_fold],
                          "n_train": [float(n) for n in per_fold.values()]})
    confusion_path = Path(model_dir) / "confusion.parquet"
    n_test = pd.Series(dtype=float)
    if confusion_path.exists():
        confusion = read_table(confusion_path)
        confusion = confusion[confusion["task"].astype(str) == task]
        first_seed = confusion["seed"] == confusion.groupby("fold")["seed"].transform("min")
        confusion = confusion[first_seed]
        n_test = confusion.groupby("fold")["count"].sum().astype(float)
    sizes["n_test"] = sizes["fold"].map(n_test).astype(float)
    return sizes


def collect_fold_sizes(single_dirs: dict[str, str]) -> pd.DataFrame:
    """task, fold, n_train, n_test (clips) of every task's single-task model: the ratio the
    corrected resampled t-test of the gains needs."""
    parts = [single_fold_sizes(task, path) for task, path in sorted(single_dirs.items())]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "task" else float)
                             for c in FOLD_SIZE_COLUMNS})
    sizes = pd.concat(parts, ignore_index=True)[FOLD_SIZE_COLUMNS]
    unknown = sizes["n_test"].isna()
    if unknown.any():
        logger.info("test-fold sizes unknown for %s (no confusion counts): the corrected test "
                    "assumes n_test / n_train = 1 / (k - 1)",
                    sorted(sizes.loc[unknown, "task"].unique()))
    return sizes.astype({"fold": "int64", "n_train": "float64", "n_test": "float64"})


def check_one_device_type(model_dirs: dict[str, str]) -> None:
    """A gain compares two models: refuse a study whose models trained on different device types
    (`efficiency.json`'s `device`; a model written before it was recorded counts as cpu)."""
    types: dict[str, list[str]] = {}
    for name, folder in sorted(model_dirs.items()):
        path = Path(folder) / "efficiency.json"
        record = json.loads(path.read_text()).get("device", {}) if path.exists() else {}
        types.setdefault(record.get("type", "cpu"), []).append(name)
    if len(types) > 1:
        listed = "; ".join(f"{kind}: {', '.join(names[:3])}" for kind, names in sorted(types.items()))
        raise StudyInputError(
            f"the study's models trained on different device types ({listed}); retrain them on one "
            "(set training.device to cpu or cuda, not auto, where some jobs may have no GPU)."
        )


def collect_study(single_dirs: dict[str, str], pair_dirs: dict[str, str], runs_out: str,
                  curves_out: str, per_class_out: str | None = None,
                  fold_sizes_out: str | None = None) -> None:
    """Write the study's `runs` table (all models) and `curves` table (single-task models).

    `single_dirs` maps a task to `results/models/single/{task}`; `pair_dirs` maps a pair name
    `"a__b"` to `results/models/pair/a__b`. In a pair model the rows of task a get partner b and
    the rows of task b get partner a; single-task rows get partner `""`. `per_class_out` gets the
    per-class scores of every model (same partners), from each model's `per_class.parquet`.
    """
    check_one_device_type({**single_dirs, **pair_dirs})
    runs = collect_runs(single_dirs, pair_dirs)
    curves = collect_curves(single_dirs)
    per_class = collect_per_class(single_dirs, pair_dirs) if per_class_out else None
    sizes = collect_fold_sizes(single_dirs) if fold_sizes_out else None
    logger.info("collected %d runs of %d single and %d pair models, %d curve points",
                len(runs), len(single_dirs), len(pair_dirs), len(curves))
    write_table(runs, runs_out)
    write_table(curves, curves_out)
    if per_class is not None:
        write_table(per_class, per_class_out)
    if sizes is not None:
        write_table(sizes, fold_sizes_out)
