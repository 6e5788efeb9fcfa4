"""Linear regression of the mean gain of each ordered pair on a small set of pair features.

With many features and few pairs, regressing on all of them is not possible, so the regression uses
either a fixed list of pair features (config `analysis.regression_features` as a list) or the k
features most correlated with the gain (an integer k): taken in order of |Pearson r|, skipping a
feature whose |r| with one already chosen exceeds `MAX_COLLINEARITY`. Caveat of the second choice:
the features are chosen on the same pairs the regression is fit on, so its p-values and intervals are
optimistic; read them as a description of the strongest relations, not as a test.

Features are standardised (z-scores over the pairs), so a coefficient is the change of the gain per
standard deviation of the feature. Ordinary least squares by statsmodels; pairs with a missing value
in a chosen feature are left out.
"""

from __future__ import annotations

import logging

import pandas as pd
import statsmodels.api as sm

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.stats.correlations import PAIR_KEYS, pair_table

logger = logging.getLogger(__name__)

MAX_COLLINEARITY = 0.9
REGRESSION_COLUMNS = ["term", "coefficient", "std_error", "t_statistic", "p_value", "ci_low",
                      "ci_high", "n_pairs", "r_squared", "adj_r_squared", "selection"]


def strongest_features(correlations: pd.DataFrame, table: pd.DataFrame, k: int) -> list[str]:
    """Up to `k` features by decreasing |pearson_r|, none too collinear with one chosen before."""
    ranked = correlations.dropna(subset=["pearson_r"])
    ranked = ranked.reindex(ranked["pearson_r"].abs().sort_values(ascending=False,
                                                                  kind="stable").index)
    chosen: list[str] = []
    for feature in ranked["feature"]:
        if len(chosen) == k:
            break
        if feature not in table.columns:
            continue
        related = table[chosen].corrwith(table[feature].astype(float)).abs() if chosen else []
        if not chosen or not (related > MAX_COLLINEARITY).any():
            chosen.append(feature)
    return chosen


def chosen_features(selection: int | list[str], correlations: pd.DataFrame,
                    table: pd.DataFrame) -> tuple[list[str], str]:
    """The features to regress on and a description of how they were chosen."""
    if isinstance(selection, int):
        return strongest_features(correlations, table, selection), f"top {selection} by |r|"
    unknown = [feature for feature in selection if feature not in table.columns]
    if unknown:
        raise StudyInputError(
            f"config analysis.regression_features: {unknown} are not pair features; choose from "
            f"results/study/pair_features.parquet, e.g. {list(table.columns[1:4])}")
    return list(selection), "fixed list"


def nan_regression(features: list[str], n_pairs: int, selection: str) -> pd.DataFrame:
    return pd.DataFrame({"term": ["Intercept", *features], "n_pairs": n_pairs,
                         "selection": selection}, columns=REGRESSION_COLUMNS)


def fit_ols(table: pd.DataFrame, features: list[str], selection: str) -> pd.DataFrame:
    """OLS of the gain on the standardised features; a NaN table when there are too few pairs."""
    data = table[["gain", *features]].astype(float).dropna()
    spread = data[features].std(ddof=0)
    if not features or len(data) < len(features) + 3 or (spread == 0).any():
        logger.warning("linear regression not possible: %d pairs for %d feature(s) %s",
                       len(data), len(features), features)
        return nan_regression(features, len(data), selection)
    design = sm.add_constant((data[features] - data[features].mean()) / spread, prepend=True)
    fit = sm.OLS(data["gain"], design.rename(columns={"const": "Intercept"})).fit()
    intervals = fit.conf_int(alpha=0.05)
    return pd.DataFrame({
        "term": fit.params.index, "coefficient": fit.params.to_numpy(),
        "std_error": fit.bse.to_numpy(), "t_statistic": fit.tvalues.to_numpy(),
        "p_value": fit.pvalues.to_numpy(), "ci_low": intervals[0].to_numpy(),
        "ci_high": intervals[1].to_numpy(), "n_pairs": len(data), "r_squared": fit.rsquared,
        "adj_r_squared": fit.rsquared_adj, "selection": selection})[REGRESSION_COLUMNS]


def regression_table(gains: pd.DataFrame, pair_features: pd.DataFrame,
                     correlations: pd.DataFrame, selection: int | list[str] = 3) -> pd.DataFrame:
    """Coefficients with 95 % CIs of the mean gain regressed on the chosen pair features."""
    table = pair_table(gains, pair_features)
    features, how = chosen_features(selection, correlations, table.drop(columns=PAIR_KEYS))
    return fit_ols(table, features, how)


def write_regression(gains_path: str, pair_features_path: str, correlations_path: str,
                     out_csv: str, selection: int | list[str] = 3) -> None:
    """Write `regression.csv`: one row per term (Intercept and each feature)."""
    table = regression_table(read_table(gains_path), read_table(pair_features_path),
                             read_table(correlations_path), selection)
    write_table(table, out_csv)

