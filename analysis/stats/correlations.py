"""Correlation of every pair feature with the mean MTL gain of the ordered pair."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.io import read_table, write_table

logger = logging.getLogger(__name__)

PAIR_KEYS = ["main", "aux"]
CORRELATION_COLUMNS = ["feature", "n", "pearson_r", "pearson_ci_low", "pearson_ci_high",
                       "pearson_p", "spearman_rho", "spearman_p", "q_value"]
MIN_POINTS = 3


def mean_gains(gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, gain: the gain averaged over folds and seeds of each ordered pair."""
    return gains.groupby(PAIR_KEYS, as_index=False)["gain"].mean()


def pair_table(gains: pd.DataFrame, pair_features: pd.DataFrame) -> pd.DataFrame:
    """The mean gain of each ordered pair beside its pair features."""
    return mean_gains(gains).merge(pair_features, on=PAIR_KEYS, how="inner", validate="one_to_one")


def fisher_interval(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a Pearson r by the Fisher z transform; NaN when n <= 3."""
    if n <= 3 or not np.isfinite(r):
        return float("nan"), float("nan")
    z = np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def correlate(x: pd.Series, y: pd.Series) -> dict[str, float]:
    """Pearson (with Fisher-z 95 % CI) and Spearman correlation over the pairs where both are
    defined; NaN if degenerate."""
    valid = x.notna() & y.notna()
    x, y = x[valid].to_numpy(dtype=float), y[valid].to_numpy(dtype=float)
    result = {"n": int(valid.sum()), "pearson_r": np.nan, "pearson_ci_low": np.nan,
              "pearson_ci_high": np.nan, "pearson_p": np.nan, "spearman_rho": np.nan,
              "spearman_p": np.nan}
    if len(x) < MIN_POINTS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return result
    pearson = stats.pearsonr(x, y)
    spearman = stats.spearmanr(x, y)
    low, high = fisher_interval(float(pearson.statistic), len(x))
    return {**result, "pearson_r": float(pearson.statistic), "pearson_ci_low": low,
            "pearson_ci_high": high, "pearson_p": float(pearson.pvalue),
            "spearman_rho": float(spearman.statistic), "spearman_p": float(spearman.pvalue)}


def bh_q_values(p_values: pd.Series) -> pd.Series:
    """Benjamini-Hochberg q-values over the defined p-values; NaN where p is NaN."""
    q_values = pd.Series(np.nan, index=p_values.index)
    defined = p_values.notna()
    if defined.any():
        q_values[defined] = multipletests(p_values[defined].to_numpy(), method="fdr_bh")[1]
    return q_values


def correlations_table(gains: pd.DataFrame, pair_features: pd.DataFrame) -> pd.DataFrame:
    """One row per pair feature, sorted by Pearson p-value (undefined ones last)."""
    table = pair_table(gains, pair_features)
    features = [column for column in pair_features.columns if column not in PAIR_KEYS]
    rows = [{"feature": f, **correlate(table[f].astype(float), table["gain"])} for f in features]
    result = pd.DataFrame(rows, columns=CORRELATION_COLUMNS[:-1])
    result["q_value"] = bh_q_values(result["pearson_p"])
    undefined = result["pearson_p"].isna().sum()
    if undefined:
        logger.info("%d of %d features have no defined correlation (constant or too few values)",
                    undefined, len(result))
    return result.sort_values("pearson_p", kind="stable", na_position="last").reset_index(drop=True)


def write_correlations(gains_path: str, pair_features_path: str, out_csv: str) -> None:
    """Write `correlations.csv`: feature, n, pearson_r with its CI and p, spearman_rho/p, q_value."""
    table = correlations_table(read_table(gains_path), read_table(pair_features_path))
    write_table(table, out_csv)
