"""Gains of the task groups (config `groups`): each task in its group's model against its
single-task model, with the same calibrated paired test as the pair gains (corrected resampled
t-test over folds, BH q-values: analysis.stats.gain_tests.pair_gain_table), next to the score
the pairs predicted for it (analysis.meta.grouping)."""

from __future__ import annotations

import logging

import pandas as pd

from analysis.io import read_table, write_table
from analysis.stats.collect import METRIC_COLUMNS, RUN_COLUMNS, read_model_table
from analysis.stats.gain_tests import pair_gain_table
from analysis.stats.gains import gains_table

logger = logging.getLogger(__name__)

GROUP_GAIN_COLUMNS = ["group", "task", "size", "predicted", "source", "n", "mean_single", "mean_group",
                      "mean_gain", "ci_low", "ci_high", "p_value", "q_value", "verdict"]


def group_runs(group: str, model_dir: str) -> pd.DataFrame:
    """The final scores of every task of a group model; each task's partner is the group's name."""
    metrics = read_model_table(model_dir, "metrics.parquet", METRIC_COLUMNS)
    return metrics.assign(partner=group, task=metrics["task"].astype(str))[RUN_COLUMNS]


def group_gain_table(single_runs: pd.DataFrame, groups: pd.DataFrame, group_runs_table: pd.DataFrame,
                     metric: str, alpha: float = 0.05, fold_sizes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per task of `groups` (task_groups.csv): its predicted and measured gain in its group.

    A task alone in its group is its single-task model: gain 0 by definition, not tested."""
    runs = pd.concat([single_runs[single_runs["partner"] == ""], group_runs_table], ignore_index=True)
    tested = pair_gain_table(gains_table(runs, metric), alpha, fold_sizes) if len(group_runs_table) else None
    measured = (tested.rename(columns={"aux": "group", "main": "task", "mean_pair": "mean_group"})
                if tested is not None else pd.DataFrame(columns=["group", "task"]))
    table = groups.merge(measured, on=["group", "task"], how="left")
    alone = table["size"] == 1
    table.loc[alone, ["mean_gain", "n"]] = [0.0, 0]
    table.loc[alone, "verdict"] = "alone (single-task model)"
    return table.reindex(columns=GROUP_GAIN_COLUMNS)


def write_group_gains(runs_path: str, groups_path: str, group_dirs: dict[str, str], metric: str,
                      out_csv: str, alpha: float = 0.05, fold_sizes_path: str | None = None) -> None:
    groups = pd.read_csv(groups_path)
    parts = [group_runs(name, path) for name, path in sorted(group_dirs.items())]
    trained = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RUN_COLUMNS)
    sizes = read_table(fold_sizes_path) if fold_sizes_path else None
    table = group_gain_table(read_table(runs_path), groups, trained, metric, alpha, sizes)
    logger.info("group gains of %d tasks in %d groups", len(table), table["group"].nunique())
    write_table(table, out_csv)
