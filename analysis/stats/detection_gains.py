"""Gains of a study with detection tasks: each task's gain in its own metric, signed so that a
positive gain always means the auxiliary task helped.

Classification tasks keep the config's `gain_metric`; detection tasks use `detection.gain_metric`
(segment_f1, segment_er, event_f1, frame_f1 or psds). For a lower-is-better metric (`segment_er`)
the gain is single minus pair, and `relative_gain` is that over the single score. The gains table
then gets the columns `metric` and `lower_is_better`; a study without detection tasks gets exactly
the table `analysis.stats.gains.gains_table` writes.
"""

from __future__ import annotations

import logging

import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.stats.gains import gains_table, safe_ratio

logger = logging.getLogger(__name__)

LOWER_IS_BETTER = frozenset({"segment_er"})  # detection metrics where a lower score is better


def signed_gains(runs: pd.DataFrame, metric: str, source: str) -> pd.DataFrame:
    """`gains_table` in `metric`, its sign flipped when lower is better; says which metric."""
    gains = gains_table(runs, metric, source)
    lower = metric in LOWER_IS_BETTER
    if lower:
        gains["gain"] = gains["single"] - gains["pair"]
        gains["relative_gain"] = safe_ratio(gains["gain"], gains["single"]).to_numpy()
    return gains.assign(metric=metric, lower_is_better=lower)


def study_gains(runs: pd.DataFrame, metric: str, detection_tasks: list[str],
                detection_metric: str, source: str = "runs") -> pd.DataFrame:
    """The gains of every ordered pair, each main task in its own metric (module docstring)."""
    if not detection_tasks:
        return gains_table(runs, metric, source)
    is_detection = runs["task"].isin(detection_tasks)
    parts = [signed_gains(runs[is_detection], detection_metric, source)]
    if (~is_detection).any():
        parts.append(signed_gains(runs[~is_detection], metric, source))
    gains = pd.concat(parts, ignore_index=True)
    return gains.sort_values(["main", "aux", "fold", "seed"]).reset_index(drop=True)


def write_study_gains(runs_path: str, metric: str, detection: dict, out: str) -> None:
    """Write gains.parquet; `detection`: {"tasks": [...], "gain_metric": ...} ({} for none)."""
    gains = study_gains(read_table(runs_path), metric, list(detection.get("tasks", [])),
                        detection.get("gain_metric", ""), source=str(runs_path))
    if gains.empty:
        raise StudyInputError(f"{runs_path} gives no gains: no pair run matches a single-task run")
    flipped = sorted(gains.loc[gains["lower_is_better"], "main"].unique()) \
        if "lower_is_better" in gains else []
    if flipped:
        logger.info("gains of %s are single minus pair (lower is better)", flipped)
    write_table(gains, out)


DETECTION_METRICS = ("segment_f1", "segment_er", "event_f1", "frame_f1", "psds")


def detection_scores(runs: pd.DataFrame, tasks: list[str]) -> pd.DataFrame:
    """task, partner, then the mean of each detection metric over folds and seeds."""
    scored = runs[runs["task"].isin(tasks) & runs["metric"].isin(DETECTION_METRICS)]
    table = scored.pivot_table(index=["task", "partner"], columns="metric", values="value",
                               aggfunc="mean")
    return table.reindex(columns=list(DETECTION_METRICS)).reset_index()


def write_detection_scores(runs_path: str, tasks: list[str], out: str) -> None:
    write_table(detection_scores(read_table(runs_path), list(tasks)), out)
