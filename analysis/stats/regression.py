"""Linear regression of the mean gain of each ordered pair on a few pair features, validated by
cross-validation on held-out tasks.

The features are either fixed beforehand (config `analysis.regression_features` as a list) or, with
an integer k (the default, 3), the k features most correlated with the gain, taken in order of
|Pearson r| and skipping a feature whose multiple correlation with those already chosen exceeds
`MAX_COLLINEARITY` (a difference `main-aux_f` once `main_f` and `aux_f` are chosen), chosen
*inside* the cross-validation: in each leave-task-out fold (see `analysis.stats.prediction`: the
pairs of one main task are predicted by a model fit on the pairs touching neither that task) the k
features are chosen on the training pairs only, then an ordinary least-squares fit on them predicts
the held-out pairs.

Columns of `regression.csv` (one row per term; `protocol`: the `analysis.protocol` whose pair
features were regressed on):

- `cv_r_squared`, `cv_p_value`: the out-of-fold R^2 of the whole procedure (selection included) on
  the pooled held-out pairs, and its permutation p-value (`permutation`: `tasks` = the tasks are
  relabelled at random, which keeps what the pairs of one task share; `pairs` when the pair set is
  not closed under relabelling). This is the test of whether the features predict gains;
- `times_selected`: in how many of the `n_folds` folds the term was chosen (integer k);
- `coefficient`, `std_error`, ...: one fit on all pairs, features standardised (z-scores over the
  pairs: the change of the gain per standard deviation of the feature). With a fixed list, standard
  errors, t, p and 95 % intervals are two-way cluster-robust by main and auxiliary task (pairs that
  share a task are not independent; few tasks make even these optimistic), or by main task alone
  where the two-way estimate is not positive definite (logged). With an integer k the
  reported features are the k chosen on all pairs, a description of the strongest relations: the
  choice has seen these pairs, so t, p and the intervals are left empty; `cv_p_value` is the test.

Pairs with a missing value in a fixed feature are left out of the fit on all pairs; in the
cross-validation a missing value is imputed with the training median, as in the predictor.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.stats.correlations import PAIR_KEYS, mean_gains
from analysis.stats.prediction import (
    Design,
    Fold,
    design,
    permutation_p,
    permuted_targets,
    r_squared,
    task_folds,
)

logger = logging.getLogger(__name__)

MAX_COLLINEARITY = 0.9
REGRESSION_COLUMNS = ["protocol", "term", "coefficient", "std_error", "t_statistic", "p_value", "ci_low",
                      "ci_high", "n_pairs", "r_squared", "adj_r_squared", "selection",
                      "times_selected", "n_folds", "cv_r_squared", "cv_p_value", "permutation"]


def strongest(x: np.ndarray, y: np.ndarray, k: int) -> list[int]:
    """Columns of standardised `x` (rows x features) most correlated with `y`, by decreasing |r|,
    none with |r| > MAX_COLLINEARITY with one chosen before; at most k."""
    centred = y - y.mean()
    spread = np.sqrt(np.sum(centred ** 2))
    norms = np.sqrt(np.sum(x ** 2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(norms > 0, x.T @ centred / (norms * spread), 0.0) if spread > 0 else np.zeros(
            x.shape[1])
    chosen: list[int] = []
    for column in np.argsort(-np.abs(r), kind="stable"):
        if len(chosen) == k or norms[column] == 0:
            break
        if not chosen or multiple_correlation(x[:, chosen], x[:, column]) <= MAX_COLLINEARITY:
            chosen.append(int(column))
    return chosen


def multiple_correlation(chosen: np.ndarray, candidate: np.ndarray) -> float:
    """Correlation of a centred `candidate` with its least-squares fit on centred `chosen`
    columns: a difference `main-aux_f` is 1 with `main_f` and `aux_f` although it is not with
    either alone."""
    fitted = chosen @ np.linalg.lstsq(chosen, candidate, rcond=None)[0]
    return float(np.sqrt(np.sum(fitted ** 2) / np.sum(candidate ** 2)))


def ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    design_train = np.column_stack([np.ones(len(x_train)), x_train])
    coefficients, *_ = np.linalg.lstsq(design_train, y_train, rcond=None)
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coefficients


def cross_validated(data: Design, folds: list[Fold], y: np.ndarray,
                    selection: int | list[int]) -> tuple[np.ndarray, list[list[int]]]:
    """Out-of-fold predictions of `y` (pairs x B) and the columns chosen in each fold (first
    column of `y`)."""
    predicted = np.zeros(y.shape)
    chosen_first: list[list[int]] = []
    for fold in folds:
        x_train = (fold.u * fold.s) @ fold.vt  # the standardised training features
        for column in range(y.shape[1]):
            y_train = y[fold.train, column]
            chosen = (strongest(x_train, y_train, selection) if isinstance(selection, int)
                      else selection)
            if column == 0:
                chosen_first.append(chosen)
            if not chosen:
                predicted[fold.test, column] = y_train.mean()
                continue
            predicted[fold.test, column] = ols_predict(x_train[:, chosen], y_train,
                                                       fold.x_test[:, chosen])
    return predicted, chosen_first


def fixed_columns(selection: list[str], features: list[str]) -> list[int]:
    unknown = [feature for feature in selection if feature not in features]
    if unknown:
        raise StudyInputError(
            f"config analysis.regression_features: {unknown} are not pair features (or have no "
            f"value); choose from results/study/pair_features.parquet, e.g. {features[:3]}")
    return [features.index(feature) for feature in selection]


def fit_all_pairs(table: pd.DataFrame, features: list[str], fixed: bool) -> dict[str, pd.Series]:
    """OLS of the gain on the standardised features over all pairs (see the module docstring)."""
    data = table[["gain", *features]].astype(float).dropna()
    spread = data[features].std(ddof=0)
    if not features or len(data) < len(features) + 3 or (spread == 0).any():
        logger.warning("linear regression not possible: %d pairs for %d feature(s) %s",
                       len(data), len(features), features)
        return {"term": pd.Series(["Intercept", *features]), "n_pairs": len(data)}
    x = sm.add_constant((data[features] - data[features].mean()) / spread, prepend=True)
    x = x.rename(columns={"const": "Intercept"})
    groups = np.column_stack([pd.factorize(table.loc[data.index, key])[0] for key in PAIR_KEYS])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = sm.OLS(data["gain"], x).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                          use_t=True)
        finite = bool(np.all(np.isfinite(fit.bse)))
    if not finite:
        # The two-way estimate is a difference of covariances and need not be positive definite.
        logger.warning("two-way cluster-robust covariance not positive definite; clustering by "
                       "main task only")
        fit = sm.OLS(data["gain"], x).fit(cov_type="cluster", cov_kwds={"groups": groups[:, 0]},
                                          use_t=True)
    intervals = fit.conf_int(alpha=0.05)
    result = {"term": fit.params.index.to_series(), "coefficient": fit.params,
              "std_error": fit.bse, "n_pairs": len(data), "r_squared": fit.rsquared,
              "adj_r_squared": fit.rsquared_adj}
    if fixed:
        result |= {"t_statistic": fit.tvalues, "p_value": fit.pvalues, "ci_low": intervals[0],
                   "ci_high": intervals[1]}
    return {key: value.reset_index(drop=True) if isinstance(value, pd.Series) else value
            for key, value in result.items()}


def regression_table(gains: pd.DataFrame, pair_features: pd.DataFrame,
                     selection: int | list[str] = 3, permutations: int = 500,
                     seed: int = 0, protocol: str = "calibrated") -> pd.DataFrame:
    """Coefficients of the mean gain on the chosen pair features, with the cross-validated R^2 and
    its permutation p-value."""
    data = design(mean_gains(gains), pair_features, "gain")  # control pairs left out
    kept = pd.DataFrame({"main": data.main, "aux": data.aux})
    table = kept.merge(mean_gains(gains), on=PAIR_KEYS).merge(pair_features, on=PAIR_KEYS,
                                                              validate="one_to_one")
    fixed = not isinstance(selection, int)
    columns = fixed_columns(list(selection), data.features) if fixed else selection
    how = "fixed list" if fixed else f"top {selection} by |r|, chosen inside each training fold"
    folds = task_folds(data, np.arange(len(data.y)), nested=False)
    cv = {"cv_r_squared": np.nan, "cv_p_value": np.nan, "permutation": "", "n_folds": len(folds)}
    chosen_per_fold: list[list[int]] = []
    if len(set(data.main)) >= 3 and np.ptp(data.y) > 0:
        predicted, chosen_per_fold = cross_validated(data, folds, data.y.reshape(-1, 1), columns)
        observed = float(r_squared(data.y, predicted)[0])
        permuted, permutation = permuted_targets(data, permutations, seed)
        null = r_squared(permuted, cross_validated(data, folds, permuted, columns)[0])
        cv |= {"cv_r_squared": observed, "cv_p_value": permutation_p(observed, null),
               "permutation": permutation}
    else:
        logger.warning("no cross-validation of the regression: %d main task(s)", len(set(data.main)))
    if fixed:
        features = list(selection)
    else:
        x = np.nan_to_num((data.x - np.nanmean(data.x, axis=0))
                          / np.where(np.nanstd(data.x, axis=0) > 0, np.nanstd(data.x, axis=0), 1))
        features = [data.features[i] for i in strongest(x, data.y, selection)]
    fit = fit_all_pairs(table, features, fixed)
    counts = {data.features[i]: sum(i in chosen for chosen in chosen_per_fold)
              for i in range(len(data.features))}
    result = pd.DataFrame(fit, columns=REGRESSION_COLUMNS[1:11]).assign(
        protocol=protocol, selection=how, **cv)
    result["times_selected"] = result["term"].map(counts)
    return result[REGRESSION_COLUMNS]


def write_regression(gains_path: str, pair_features_path: str, out_csv: str,
                     selection: int | list[str] = 3, permutations: int = 500, seed: int = 0,
                     protocol: str = "calibrated") -> None:
    """Write `regression.csv`: one row per term (Intercept and each feature); `protocol` is the
    one that built the pair features."""
    table = regression_table(read_table(gains_path), read_table(pair_features_path), selection,
                             permutations, seed, protocol)
    write_table(table, out_csv)
