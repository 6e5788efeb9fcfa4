"""Import a study trained elsewhere (config `external_results: DIR`) into the study tables.

Files in DIR (README.md, "Studies trained elsewhere"):

- `runs.csv` (required): `task`, `partner` (empty for a single-task run), `score`, optional `fold`
  and `seed` (default 0 when the column is absent; a blank cell is an error). The score is taken as
  the config's `gain_metric`. Optional `n_train`, `n_test`: the task's training and test clips in
  the fold, on single-task rows, for the corrected test of the gains (else 1 / (k - 1) is assumed).
- `curves.csv` (required): `task`, `step`, `loss`, optional `fold`, `seed`: training-loss curves of
  the single-task runs, for the learning-curve features.
- `task_features.csv` (optional): `task` and numeric feature columns; the text columns `dataset`,
  `domain`, `label_type` and `task_type` are read as the task's factors for grouping pairs.
- `per_class.csv` (optional): `task`, `partner`, `class`, `f1`, optional `fold`, `seed`,
  `precision`, `recall`, `support`: per-class scores for the per-class gains.

They become `runs.parquet`, `curves.parquet`, `per_class.parquet`, `task_features.parquet` (the
imported features plus the learning-curve features) and `task_factors.parquet`, in the same form as
a native study's, so the rest of the analysis runs unchanged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import write_table
from analysis.meta.learning_curve import curve_features
from analysis.meta.task_features import FACTOR_COLUMNS
from analysis.stats.collect import CURVE_COLUMNS, RUN_COLUMNS, STUDY_PER_CLASS_COLUMNS

logger = logging.getLogger(__name__)

FACTORS = FACTOR_COLUMNS[1:]
MAX_LISTED = 5
FOLD_SIZES = ["n_train", "n_test"]


def read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise StudyInputError(f"{path} not found: an external_results folder needs this file "
                              "(see README.md, 'Studies trained elsewhere')")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise StudyInputError(f"{path}: cannot be read as CSV ({error})") from error


def require_columns(table: pd.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise StudyInputError(f"{path} lacks the column(s) {missing}; it has {list(table.columns)}")


def numeric_column(table: pd.DataFrame, column: str, path: Path, integer: bool = False,
                   default: float | None = None) -> pd.Series:
    """The column as numbers; a missing optional column gives `default`; a blank or bad cell
    stops the import naming the file, the column and the lines (a blank `fold` is not fold 0)."""
    if column not in table.columns:
        return pd.Series(default, index=table.index).astype("int64" if integer else float)
    text = table[column].str.strip()
    blank = text == ""
    if blank.any():
        raise StudyInputError(f"{path}, column {column!r}: line(s) {_lines(blank)} are blank; "
                              f"fill them in (or leave the column out: every row is then "
                              f"{default if default is not None else 'invalid'})")
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if integer:
        bad |= values.notna() & (values != values.round())
    if bad.any():
        kind = "an integer" if integer else "a finite number"
        raise StudyInputError(f"{path}, column {column!r}: line(s) {_lines(bad)} do not hold {kind} "
                              f"(e.g. {text[bad].iloc[0]!r})")
    return values.astype("int64") if integer else values.astype(float)


def _lines(rows: pd.Series) -> list[int]:
    """The file's line numbers of the flagged rows (+2: the header line, 1-based lines)."""
    return (rows[rows].index[:MAX_LISTED] + 2).tolist()


def task_column(table: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = table[column].str.strip()
    empty = values == ""
    if column == "task" and empty.any():
        raise StudyInputError(f"{path}, column 'task': line(s) {_lines(empty)} are empty")
    return values


def check_unique(table: pd.DataFrame, keys: list[str], path: Path) -> None:
    duplicated = table.duplicated(keys, keep=False)
    if duplicated.any():
        raise StudyInputError(f"{path}: rows repeat the same {keys}: "
                              f"{table.loc[duplicated, keys].head(MAX_LISTED).to_dict('records')}")


def read_runs(path: Path, metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`runs.csv` as the study's runs table (task, partner, fold, seed, metric, value) and its
    fold sizes (task, fold, n_train, n_test; no rows without the optional columns)."""
    raw = read_csv(path)
    require_columns(raw, path, ["task", "partner", "score"])
    runs = pd.DataFrame({
        "task": task_column(raw, "task", path), "partner": task_column(raw, "partner", path),
        "fold": numeric_column(raw, "fold", path, integer=True, default=0),
        "seed": numeric_column(raw, "seed", path, integer=True, default=0),
        "metric": metric, "value": numeric_column(raw, "score", path)})
    self_pairs = runs["task"] == runs["partner"]
    if self_pairs.any():
        raise StudyInputError(f"{path}: a task cannot be its own partner (line(s) "
                              f"{(self_pairs[self_pairs].index[:MAX_LISTED] + 2).tolist()})")
    check_unique(runs, ["task", "partner", "fold", "seed"], path)
    if not (runs["partner"] == "").any() or (runs["partner"] == "").all():
        raise StudyInputError(f"{path} needs single-task runs (empty partner) and dual-task runs "
                              "(partner set) to give any gain")
    sizes = read_fold_sizes(raw, runs, path)
    runs = runs[RUN_COLUMNS].sort_values(["task", "partner", "metric", "fold", "seed"],
                                         kind="stable").reset_index(drop=True)
    return runs, sizes


def read_fold_sizes(raw: pd.DataFrame, runs: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Optional `n_train`, `n_test` of runs.csv: the main task's training and test clips in each
    fold, read from the single-task rows (blank on dual-task rows is allowed)."""
    given = [column for column in FOLD_SIZES if column in raw.columns]
    if not given:
        return pd.DataFrame({column: pd.Series(dtype="int64" if column != "task" else object)
                             for column in ["task", "fold", *FOLD_SIZES]})
    if len(given) == 1:
        raise StudyInputError(f"{path}: give both {FOLD_SIZES} or neither (only {given} found)")
    single = (runs["partner"] == "").to_numpy()
    sizes = pd.DataFrame({"task": runs["task"][single], "fold": runs["fold"][single],
                          **{column: numeric_column(raw[single], column, path, integer=True)
                             for column in FOLD_SIZES}})
    sizes = sizes.drop_duplicates()
    clash = sizes.duplicated(["task", "fold"], keep=False)
    if clash.any():
        raise StudyInputError(f"{path}: n_train/n_test differ between seeds of the same task and "
                              f"fold, line(s) {_lines(clash)}")
    if ((sizes["n_train"] < 1) | (sizes["n_test"] < 1)).any():
        raise StudyInputError(f"{path}: n_train and n_test must be at least 1")
    return sizes.sort_values(["task", "fold"]).reset_index(drop=True)


def read_curves(path: Path) -> pd.DataFrame:
    raw = read_csv(path)
    require_columns(raw, path, ["task", "step", "loss"])
    curves = pd.DataFrame({
        "task": task_column(raw, "task", path),
        "fold": numeric_column(raw, "fold", path, integer=True, default=0),
        "seed": numeric_column(raw, "seed", path, integer=True, default=0),
        "step": numeric_column(raw, "step", path, integer=True),
        "loss": numeric_column(raw, "loss", path)})
    check_unique(curves, ["task", "fold", "seed", "step"], path)
    return curves[CURVE_COLUMNS].sort_values(["task", "fold", "seed", "step"],
                                             kind="stable").reset_index(drop=True)


def read_per_class(path: Path) -> pd.DataFrame:
    """`per_class.csv` as the study's per-class table; an empty table when the file is absent."""
    if not path.exists():
        return pd.DataFrame({column: pd.Series(dtype=float if column in (
            "precision", "recall", "f1", "support") else object)
            for column in STUDY_PER_CLASS_COLUMNS})
    raw = read_csv(path)
    require_columns(raw, path, ["task", "partner", "class", "f1"])
    table = pd.DataFrame({
        "task": task_column(raw, "task", path), "partner": task_column(raw, "partner", path),
        "fold": numeric_column(raw, "fold", path, integer=True, default=0),
        "seed": numeric_column(raw, "seed", path, integer=True, default=0),
        "class": raw["class"].str.strip()})
    for column in ("precision", "recall", "f1", "support"):
        table[column] = (numeric_column(raw, column, path) if column in raw.columns
                         else np.nan)
    check_unique(table, ["task", "partner", "fold", "seed", "class"], path)
    return table[STUDY_PER_CLASS_COLUMNS]


def read_task_table(path: Path, tasks: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric features and factors of `task_features.csv`; one row per task of the study."""
    if not path.exists():
        empty = pd.DataFrame({"task": tasks})
        return empty, empty.assign(**{factor: pd.NA for factor in FACTORS})
    raw = read_csv(path)
    require_columns(raw, path, ["task"])
    raw["task"] = task_column(raw, "task", path)
    check_unique(raw, ["task"], path)
    missing = sorted(set(tasks) - set(raw["task"]))
    if missing:
        raise StudyInputError(f"{path} has no row for task(s) {missing} of runs.csv; add them")
    numeric = pd.DataFrame({column: numeric_column(raw, column, path) for column in raw.columns
                            if column not in ["task", *FACTORS]}, index=raw.index)
    numeric.index = raw["task"]
    factors = pd.DataFrame({factor: raw[factor].replace("", pd.NA) if factor in raw.columns
                            else pd.NA for factor in FACTORS}, index=raw.index)
    factors.index = raw["task"]
    return (numeric.loc[tasks].rename_axis("task").reset_index(),
            factors.loc[tasks].rename_axis("task").reset_index())


def curve_feature_rows(curves: pd.DataFrame, tasks: list[str]) -> pd.DataFrame:
    rows = []
    for task in tasks:
        task_curve = curves[curves["task"] == task]
        if task_curve.empty:
            logger.warning("curves.csv has no curve of task %r: its curve features are missing",
                           task)
            task_curve = pd.DataFrame(columns=CURVE_COLUMNS)
        rows.append({"task": task, **curve_features(task_curve)})
    return pd.DataFrame(rows)


def imported_task_features(directory: Path, runs: pd.DataFrame,
                           curves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks = sorted(set(runs["task"]).union(runs.loc[runs["partner"] != "", "partner"]))
    given, factors = read_task_table(directory / "task_features.csv", tasks)
    from_curves = curve_feature_rows(curves, tasks)
    clash = sorted(set(given.columns).intersection(from_curves.columns) - {"task"})
    if clash:
        raise StudyInputError(f"{directory / 'task_features.csv'}: column(s) {clash} are computed "
                              "from curves.csv; rename or remove them")
    features = given.merge(from_curves, on="task")
    return features, factors[FACTOR_COLUMNS].astype("string")


def import_external(directory: str, metric: str, runs_out: str, curves_out: str,
                    per_class_out: str, features_out: str, factors_out: str,
                    fold_sizes_out: str | None = None) -> None:
    """Check and convert the files of an external study; nothing is written if one is malformed."""
    folder = Path(directory)
    runs, sizes = read_runs(folder / "runs.csv", metric)
    curves = read_curves(folder / "curves.csv")
    per_class = read_per_class(folder / "per_class.csv")
    features, factors = imported_task_features(folder, runs, curves)
    logger.info("imported %d runs, %d curve points, %d tasks x %d features from %s", len(runs),
                len(curves), len(features), features.shape[1] - 1, folder)
    outputs = [(runs, runs_out), (curves, curves_out), (per_class, per_class_out),
               (features, features_out), (factors, factors_out), (sizes, fold_sizes_out)]
    for table, out in outputs:
        if out is not None:
            write_table(table, out)
