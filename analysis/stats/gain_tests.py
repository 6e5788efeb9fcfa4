"""Is a pair's gain real? Tests per ordered pair, summaries by pair category, per-class gains.

Per ordered (main, aux) pair the gains of its folds and seeds are paired differences (the same test
fold and seed in the single-task and the dual-task model), so the test is the paired t-test of pair
against single scores (`scipy.stats.ttest_rel`, equal to a one-sample t-test of the gains against 0)
with a t-based 95 % confidence interval of the mean gain. p-values are corrected across pairs with
Benjamini-Hochberg. Caveat: folds of one cross-validation share training data, so the test
treats somewhat dependent differences as independent and is optimistic.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.stats.correlations import bh_q_values

logger = logging.getLogger(__name__)

PAIR_KEYS = ["main", "aux"]
VERDICTS = ("gain", "loss", "no significant change")
PAIR_GAIN_COLUMNS = ["main", "aux", "n", "mean_single", "mean_pair", "mean_gain", "ci_low",
                     "ci_high", "mean_relative_gain", "t_statistic", "p_value", "q_value",
                     "verdict"]
CATEGORY_COLUMNS = ["grouping", "category", "n_pairs", "mean_gain", "ci_low", "ci_high",
                    *(f"n_{verdict.replace(' ', '_')}" for verdict in VERDICTS)]
CLASS_GAIN_COLUMNS = ["main", "aux", "class", "n", "single_f1", "pair_f1", "gain", "support"]
RUN_KEYS = ["task", "fold", "seed"]


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based confidence interval; NaN bounds with fewer than 2 values or no spread."""
    values = np.asarray(values, dtype=float)
    mean = float(np.mean(values)) if len(values) else float("nan")
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    sem = stats.sem(values)
    if sem == 0:
        return mean, mean, mean
    low, high = stats.t.interval(level, len(values) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def paired_test(single: np.ndarray, pair: np.ndarray) -> tuple[float, float]:
    """t statistic and two-sided p of the paired t-test; NaN when undefined (n < 2, no spread)."""
    differences = np.asarray(pair, dtype=float) - np.asarray(single, dtype=float)
    if len(differences) < 2 or np.ptp(differences) == 0:
        return float("nan"), float("nan")
    result = stats.ttest_rel(pair, single)
    return float(result.statistic), float(result.pvalue)


def one_pair(group: pd.DataFrame) -> dict[str, float]:
    mean, low, high = mean_interval(group["gain"].to_numpy())
    t_statistic, p_value = paired_test(group["single"].to_numpy(), group["pair"].to_numpy())
    relative = group["relative_gain"] if "relative_gain" in group else group["gain"] / group["single"]
    return {"n": len(group), "mean_single": group["single"].mean(), "mean_pair": group["pair"].mean(),
            "mean_gain": mean, "ci_low": low, "ci_high": high,
            "mean_relative_gain": float(relative.mean()), "t_statistic": t_statistic,
            "p_value": p_value}


def verdict(mean_gain: float, q_value: float, alpha: float) -> str:
    """`gain` / `loss` when the BH q-value is below alpha, else `no significant change`."""
    if np.isnan(q_value) or q_value >= alpha:
        return VERDICTS[2]
    return VERDICTS[0] if mean_gain > 0 else VERDICTS[1]


def pair_gain_table(gains: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """One row per ordered pair: mean gain, 95 % CI, paired t-test, BH q-value and verdict."""
    if gains.empty:
        raise StudyInputError("the gains table is empty: no ordered pair to test")
    rows = [{"main": main, "aux": aux, **one_pair(group)}
            for (main, aux), group in gains.groupby(PAIR_KEYS, sort=True)]
    table = pd.DataFrame(rows)
    table["q_value"] = bh_q_values(table["p_value"]).to_numpy()
    table["verdict"] = [verdict(m, q, alpha) for m, q in zip(table["mean_gain"], table["q_value"])]
    untested = table["p_value"].isna().sum()
    if untested:
        logger.warning("%d pair(s) have fewer than 2 folds x seeds or constant gains: not tested",
                       untested)
    return table[PAIR_GAIN_COLUMNS]


# Categories of pairs -------------------------------------------------------------------------------


def pair_categories(pairs: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Long table main, aux, grouping, category: same/different dataset, same/cross domain, aux.

    A pair with an unknown dataset or domain on either side has no category of that grouping.
    """
    indexed = factors.set_index("task")
    missing = sorted(set(pairs["main"]).union(pairs["aux"]) - set(indexed.index))
    if missing:
        raise StudyInputError(f"task factors are missing for task(s) {missing}")
    main, aux = indexed.loc[pairs["main"]].reset_index(), indexed.loc[pairs["aux"]].reset_index()
    keys = pairs[PAIR_KEYS].reset_index(drop=True)
    parts = [_same_or_not(keys, main, aux, "dataset", ("same dataset", "different datasets")),
             _same_or_not(keys, main, aux, "domain", ("same domain", "cross-domain")),
             keys.assign(grouping="aux", category=keys["aux"].astype(str))]
    return pd.concat(parts, ignore_index=True)


def _same_or_not(keys: pd.DataFrame, main: pd.DataFrame, aux: pd.DataFrame, factor: str,
                 names: tuple[str, str]) -> pd.DataFrame:
    """Pairs whose two tasks share `factor` or not; pairs with the factor unknown are left out."""
    known = (main[factor].notna() & aux[factor].notna()).to_numpy()
    same = (main[factor].astype(str) == aux[factor].astype(str)).to_numpy()
    return keys.assign(grouping=factor, category=np.where(same, *names))[known]


def category_summary(pair_gains: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Per grouping and category: pairs, mean of the pairs' mean gains with a t CI, verdict counts."""
    categories = pair_categories(pair_gains[PAIR_KEYS], factors).merge(
        pair_gains[[*PAIR_KEYS, "mean_gain", "verdict"]], on=PAIR_KEYS)
    rows = []
    for (grouping, category), group in categories.groupby(["grouping", "category"], sort=False):
        mean, low, high = mean_interval(group["mean_gain"].to_numpy())
        counts = group["verdict"].value_counts()
        rows.append({"grouping": grouping, "category": category, "n_pairs": len(group),
                     "mean_gain": mean, "ci_low": low, "ci_high": high,
                     **{f"n_{v.replace(' ', '_')}": int(counts.get(v, 0)) for v in VERDICTS}})
    return pd.DataFrame(rows, columns=CATEGORY_COLUMNS)


# Per-class gains ---------------------------------------------------------------------------------


def class_gain_table(per_class: pd.DataFrame) -> pd.DataFrame:
    """Change of each class's F1 of the main task, pair minus single model, mean over folds, seeds.

    `per_class` is the study's per-class table (task, partner, fold, seed, class, f1, support...).
    """
    keys = [*RUN_KEYS, "class"]
    single = per_class[per_class["partner"] == ""][[*keys, "f1"]].rename(columns={"f1": "single"})
    pair = per_class[per_class["partner"] != ""][[*keys, "partner", "f1", "support"]]
    merged = pair.rename(columns={"f1": "pair"}).merge(single, on=keys, how="inner",
                                                       validate="many_to_one")
    if merged.empty:
        return pd.DataFrame(columns=CLASS_GAIN_COLUMNS)
    merged["gain"] = merged["pair"] - merged["single"]
    table = merged.groupby(["task", "partner", "class"], as_index=False).agg(
        n=("gain", "size"), single_f1=("single", "mean"), pair_f1=("pair", "mean"),
        gain=("gain", "mean"), support=("support", "mean"))
    table = table.rename(columns={"task": "main", "partner": "aux"})
    return table[CLASS_GAIN_COLUMNS].sort_values(["main", "aux", "class"]).reset_index(drop=True)


# Writers -----------------------------------------------------------------------------------------


def write_pair_gains(gains_path: str, out_csv: str, alpha: float = 0.05) -> None:
    """Write `pair_gains.csv`: per ordered pair mean gain, CI, test, q-value and verdict."""
    table = pair_gain_table(read_table(gains_path), alpha)
    logger.info("verdicts: %s", table["verdict"].value_counts().to_dict())
    write_table(table, out_csv)


def write_gain_categories(pair_gains_path: str, factors_path: str, out_csv: str) -> None:
    """Write `gain_categories.csv`: gains summarised by dataset, domain and auxiliary task."""
    write_table(category_summary(read_table(pair_gains_path), read_table(factors_path)), out_csv)


def write_class_gains(per_class_path: str, out_csv: str) -> None:
    """Write `class_gains.csv`: per ordered pair and class of the main task, the F1 change."""
    table = class_gain_table(read_table(per_class_path))
    if table.empty:
        logger.warning("%s gives no per-class gain (no per-class scores of matching runs)",
                       per_class_path)
    write_table(table, out_csv)
