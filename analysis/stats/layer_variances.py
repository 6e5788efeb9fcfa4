"""Intermediate output variances of pair models against single-task models, per shared layer.

Every trained model writes `variances.parquet` (analysis.mtl.variances: task, fold, seed, layer,
variance of the layer's output on the task's test rows, with the weights the task is scored with).
For every ordered pair (main, aux) and shared layer this sets the main task's variance in the pair
model beside its variance in its own single-task model, run by run (same fold, seed and initial
weights): `ratio` = mean pair / mean single, `mean_log2_ratio` the mean over runs of log2(pair /
single). Below 1 (below 0): the partner narrowed the layer's response to the main task's clips.

A description of what sharing did, measured after training: it carries no test or interval (it is
not one of the study's predictors, which are measured beforehand).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import write_table
from analysis.mtl.records import VARIANCE_COLUMNS
from analysis.stats.collect import read_model_table, split_pair_name

RUN_KEYS = ["fold", "seed", "layer"]
COLUMNS = ["main", "aux", "layer", "single", "pair", "ratio", "mean_log2_ratio", "n_runs"]


def _task_rows(model_dir: str, task: str) -> pd.DataFrame:
    table = read_model_table(model_dir, "variances.parquet", list(VARIANCE_COLUMNS))
    rows = table[table["task"].astype(str) == task]
    if rows.empty:
        raise StudyInputError(f"{model_dir}/variances.parquet has no rows of task {task!r}: "
                              "retrain the model (delete the folder and rerun the study)")
    return rows


def pair_variances(main: str, aux: str, single_dir: str, pair_dir: str) -> pd.DataFrame:
    """COLUMNS of one ordered pair, one row per shared layer in forward order."""
    single = _task_rows(single_dir, main)
    pair = _task_rows(pair_dir, main)
    runs = single.merge(pair, on=RUN_KEYS, suffixes=("_single", "_pair"))
    if runs.empty:
        raise StudyInputError(f"{single_dir} and {pair_dir} share no (fold, seed, layer) of task "
                              f"{main!r}: were they trained with the same folds, seeds and model?")
    positive = (runs["variance_single"] > 0) & (runs["variance_pair"] > 0)
    runs["log2_ratio"] = np.log2(runs["variance_pair"].where(positive)
                                 / runs["variance_single"].where(positive))
    order = {layer: i for i, layer in enumerate(dict.fromkeys(single["layer"]))}
    summary = runs.groupby("layer", sort=False).agg(
        single=("variance_single", "mean"), pair=("variance_pair", "mean"),
        mean_log2_ratio=("log2_ratio", "mean"), n_runs=("log2_ratio", "size"))
    summary["ratio"] = summary["pair"] / summary["single"].where(summary["single"] > 0)
    summary = summary.reset_index().assign(main=main, aux=aux)
    return summary.sort_values("layer", key=lambda s: s.map(order))[COLUMNS]


def collect_layer_variances(single_dirs: dict[str, str], pair_dirs: dict[str, str]) -> pd.DataFrame:
    """COLUMNS of every ordered pair whose pair model and main task's single model were trained."""
    parts = []
    for pair, pair_dir in sorted(pair_dirs.items()):
        for main, aux in (split_pair_name(pair), split_pair_name(pair)[::-1]):
            if main in single_dirs:
                parts.append(pair_variances(main, aux, single_dirs[main], pair_dir))
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in COLUMNS})
    table = pd.concat(parts, ignore_index=True)
    return table.astype({"n_runs": "int64"}).sort_values(["main", "aux"], kind="stable")


def write_layer_variances(single_dirs: dict[str, str], pair_dirs: dict[str, str], out: str) -> None:
    write_table(collect_layer_variances(single_dirs, pair_dirs).reset_index(drop=True), out)
