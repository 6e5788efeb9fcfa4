"""Which task features go with the MTL gain? Each feature tested at the level where it varies.

A `main_*` feature takes one value per main task, and every pair of a main task shares that task's
single-task baseline, so its ordered pairs are not independent observations of it: it is correlated
with the mean gain of each main task (over its auxiliary tasks, folds and seeds), n = number of main
tasks. An `aux_*` feature likewise with the mean gain of each auxiliary task. A feature that varies
with the pair (`main/aux_*`, differences, any other) is correlated with the mean gain of the ordered
pairs, and its p-value comes from a task-relabelling permutation test: the tasks' names are permuted
in the feature table (the feature of (m, a) becomes that of (pi(m), pi(a))), which keeps the crossed
main/auxiliary structure of both the feature and the gains and breaks only their association. All
permutations are used when there are few tasks (an exact test), else `permutations` random ones.
p-values are corrected over features with Benjamini-Hochberg.
"""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.io import read_table, write_table
from analysis.mtl.controls import involves_control

logger = logging.getLogger(__name__)

PAIR_KEYS = ["main", "aux"]
CORRELATION_COLUMNS = ["feature", "unit", "method", "n", "pearson_r", "pearson_ci_low",
                       "pearson_ci_high", "pearson_p", "spearman_rho", "spearman_p", "p_value",
                       "q_value"]
MIN_POINTS = 3
EXACT_UP_TO = 5040  # 7 tasks: every relabelling is enumerated
TASK_LEVEL = "pearson over tasks"
PERMUTATION = "task-relabelling permutation"


def mean_gains(gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, gain: the gain averaged over folds and seeds of each ordered pair."""
    return gains.groupby(PAIR_KEYS, as_index=False)["gain"].mean()


def pair_table(gains: pd.DataFrame, pair_features: pd.DataFrame) -> pd.DataFrame:
    """The mean gain of each ordered pair beside its pair features."""
    return mean_gains(gains).merge(pair_features, on=PAIR_KEYS, how="inner", validate="one_to_one")


def bh_q_values(p_values: pd.Series) -> pd.Series:
    """Benjamini-Hochberg q-values over the defined p-values; NaN where p is NaN."""
    q_values = pd.Series(np.nan, index=p_values.index)
    defined = p_values.notna()
    if defined.any():
        q_values[defined] = multipletests(p_values[defined].to_numpy(), method="fdr_bh")[1]
    return q_values


def feature_unit(feature: str) -> str:
    """The level where a pair feature varies: `main task`, `auxiliary task` or `ordered pair`."""
    if feature.startswith("main_"):
        return "main task"
    if feature.startswith("aux_"):
        return "auxiliary task"
    return "ordered pair"


def _empty_row(n: int) -> dict[str, float]:
    return {"n": n, **{column: np.nan for column in CORRELATION_COLUMNS[4:-1]}}


def task_means(table: pd.DataFrame, task_column: str) -> pd.DataFrame:
    """Per task of `task_column`: the mean gain of its pairs and the value of each feature there."""
    grouped = table.drop(columns=[c for c in PAIR_KEYS if c != task_column]).groupby(task_column)
    return grouped.first().assign(gain=grouped["gain"].mean())


def task_level(per_task: pd.DataFrame, feature: str) -> dict[str, float]:
    """Pearson (scipy's Fisher-z 95 % interval) and Spearman of the feature with the mean gain of
    each task, one point per task."""
    valid = per_task[[feature, "gain"]].dropna()
    x, y = valid[feature].to_numpy(float), valid["gain"].to_numpy(float)
    if len(x) < MIN_POINTS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return _empty_row(len(x))
    pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
    low, high = (pearson.confidence_interval(0.95) if len(x) > 3 else (np.nan, np.nan))
    return {"n": len(x), "pearson_r": float(pearson.statistic), "pearson_ci_low": float(low),
            "pearson_ci_high": float(high), "pearson_p": float(pearson.pvalue),
            "spearman_rho": float(spearman.statistic), "spearman_p": float(spearman.pvalue),
            "p_value": float(pearson.pvalue)}


def relabellings(n_tasks: int, permutations: int, seed: int) -> np.ndarray:
    """Permutations of task indices: all of them when few (identity included), else the identity
    and `permutations` random ones."""
    if math.factorial(n_tasks) <= EXACT_UP_TO:
        return np.array(list(itertools.permutations(range(n_tasks))), dtype=int)
    rng = np.random.default_rng(seed)
    random = np.array([rng.permutation(n_tasks) for _ in range(permutations)], dtype=int)
    return np.vstack([np.arange(n_tasks), random])


def _row_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every row of x (NaN cells left out) with y."""
    valid = np.isfinite(x)
    weight = valid.astype(float)
    count = weight.sum(axis=1)
    x0 = np.where(valid, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xc = np.where(valid, x0 - x0.sum(axis=1, keepdims=True) / count[:, None], 0.0)
        ym = (weight * y).sum(axis=1) / count
        yc = np.where(valid, y[None, :] - ym[:, None], 0.0)
        return (xc * yc).sum(axis=1) / np.sqrt((xc ** 2).sum(axis=1) * (yc ** 2).sum(axis=1))


def permutation_level(table: pd.DataFrame, feature: str, permutations: int,
                      seed: int) -> dict[str, float]:
    """Pearson r and Spearman rho over the ordered pairs; two-sided p of |r| from relabelling the
    tasks of the feature table (observed relabelling counted)."""
    defined = table[table[feature].notna()]
    x, y = defined[feature].to_numpy(float), defined["gain"].to_numpy(float)
    if len(x) < MIN_POINTS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return _empty_row(len(x))
    tasks = sorted(set(table["main"]).union(table["aux"]))
    index = {task: i for i, task in enumerate(tasks)}
    matrix = np.full((len(tasks), len(tasks)), np.nan)
    matrix[defined["main"].map(index), defined["aux"].map(index)] = x
    main, aux = defined["main"].map(index).to_numpy(), defined["aux"].map(index).to_numpy()
    orders = relabellings(len(tasks), permutations, seed)
    null = _row_correlations(matrix[orders[:, main], orders[:, aux]], y)
    observed = float(stats.pearsonr(x, y).statistic)
    null = np.nan_to_num(null, nan=0.0)
    p_value = float(np.mean(np.abs(null) >= abs(observed) - 1e-12))
    return {**_empty_row(len(x)), "pearson_r": observed,
            "spearman_rho": float(stats.spearmanr(x, y).statistic), "p_value": p_value}


def correlations_table(gains: pd.DataFrame, pair_features: pd.DataFrame, permutations: int = 999,
                       seed: int = 0) -> pd.DataFrame:
    """One row per pair feature, tested at its level, sorted by p-value (undefined ones last)."""
    features = [column for column in pair_features.columns if column not in PAIR_KEYS]
    gains = gains[~involves_control(gains["main"], gains["aux"])]  # control pairs are no task pairs
    table = pair_table(gains, pair_features.astype({feature: float for feature in features}))
    per_task = {"main task": task_means(table, "main"), "auxiliary task": task_means(table, "aux")}
    rows = []
    for feature in features:
        unit = feature_unit(feature)
        if unit == "ordered pair":
            result = permutation_level(table, feature, permutations, seed)
        else:
            result = task_level(per_task[unit], feature)
        rows.append({"feature": feature, "unit": unit,
                     "method": PERMUTATION if unit == "ordered pair" else TASK_LEVEL, **result})
    result = pd.DataFrame(rows, columns=CORRELATION_COLUMNS[:-1])
    result["q_value"] = bh_q_values(result["p_value"])
    undefined = result["p_value"].isna().sum()
    if undefined:
        logger.info("%d of %d features have no defined correlation (constant or too few values)",
                    undefined, len(result))
    return result.sort_values("p_value", kind="stable", na_position="last").reset_index(drop=True)


def write_correlations(gains_path: str, pair_features_path: str, out_csv: str,
                       permutations: int = 999, seed: int = 0) -> None:
    """Write `correlations.csv`: feature, unit, method, n, Pearson r (CI, p), Spearman rho (p),
    the p-value of the row's test and its q-value."""
    table = correlations_table(read_table(gains_path), read_table(pair_features_path),
                               permutations, seed)
    write_table(table, out_csv)
