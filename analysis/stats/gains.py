"""MTL gains (pair minus single score of the main task) and the pair features to explain them."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table

logger = logging.getLogger(__name__)

GAIN_COLUMNS = ["main", "aux", "fold", "seed", "single", "pair", "gain", "relative_gain"]
RUN_KEYS = ["task", "fold", "seed"]


def metric_runs(runs: pd.DataFrame, metric: str, source: str = "runs") -> pd.DataFrame:
    """The runs scored with `metric`; a clear error when the study has no such metric."""
    if metric not in set(runs["metric"]):
        raise StudyInputError(f"gain metric {metric!r} is not in {source}; it has "
                              f"{sorted(runs['metric'].unique())}")
    return runs[runs["metric"] == metric]


def _unique_runs(table: pd.DataFrame, keys: list[str], what: str) -> pd.DataFrame:
    duplicated = table.duplicated(keys)
    if duplicated.any():
        raise StudyInputError(
            f"{what} runs are duplicated for {table.loc[duplicated, keys].head()}")
    return table


def gains_table(runs: pd.DataFrame, metric: str, source: str = "runs") -> pd.DataFrame:
    """One row per ordered (main, aux) pair, fold and seed with single, pair and gain scores.

    `gain` is pair minus single score; `relative_gain` is the gain over the single score (NaN when
    the single score is 0).
    """
    scored = metric_runs(runs, metric, source)
    singles = _unique_runs(scored[scored["partner"] == ""], RUN_KEYS, "single-task")
    pairs = _unique_runs(scored[scored["partner"] != ""], [*RUN_KEYS, "partner"], "pair")
    singles = singles[RUN_KEYS + ["value"]].rename(columns={"value": "single"})
    pairs = pairs[RUN_KEYS + ["partner", "value"]].rename(columns={"value": "pair"})
    merged = pairs.merge(singles, on=RUN_KEYS, how="left", validate="many_to_one")
    _warn_unmatched(merged)
    merged = merged.dropna(subset=["single"])
    gains = merged.rename(columns={"task": "main", "partner": "aux"}).assign(
        gain=lambda table: table["pair"] - table["single"])
    gains["relative_gain"] = safe_ratio(gains["gain"], gains["single"]).to_numpy()
    return gains[GAIN_COLUMNS].sort_values(["main", "aux", "fold", "seed"]).reset_index(drop=True)


def _warn_unmatched(merged: pd.DataFrame) -> None:
    unmatched = merged[merged["single"].isna()]
    if not unmatched.empty:
        logger.warning("%d pair run(s) have no single-task run on the same fold and seed and are "
                       "left out of the gains, e.g. %s", len(unmatched),
                       unmatched[[*RUN_KEYS, "partner"]].head(3).to_dict("records"))


def write_gains(runs_path: str, metric: str, out: str) -> None:
    """Write `gains.parquet` (main, aux, fold, seed, single, pair, gain, relative_gain)."""
    gains = gains_table(read_table(runs_path), metric, source=str(runs_path))
    if gains.empty:
        raise StudyInputError(f"{runs_path} gives no gains: no pair run matches a single-task run")
    logger.info("gains of %d ordered pairs", len(gains.groupby(["main", "aux"])))
    write_table(gains, out)


def safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """`numerator / denominator`, NaN where the denominator is 0 or the result is not finite."""
    numerator = numerator.astype(float).to_numpy()
    denominator = denominator.astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(denominator != 0, numerator / denominator, np.nan)
    return pd.Series(np.where(np.isfinite(ratio), ratio, np.nan))
