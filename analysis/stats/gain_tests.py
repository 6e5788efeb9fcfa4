"""Is a pair's gain real? Tests per ordered pair, summaries by pair category, per-class gains.

Unit of inference: the cross-validation fold. Per ordered (main, aux) pair the gains (pair minus
single score of the main task on the same test fold and seed) are first averaged over the seeds of
each fold: repeated seeds share the fold's training and test data, so they are not independent
samples. The J fold means are then tested with the corrected resampled t-test (Nadeau & Bengio
2003; Bouckaert & Frank 2004): folds of one cross-validation share most of their training data, so
the variance of the mean is inflated from s²/J to (1/J + n_test/n_train) s², with J - 1 degrees of
freedom; the same variance gives the 95 % interval. `n_test / n_train` is the mean over the folds
of the main task's test and training clip counts (`fold_sizes`), or 1 / (k - 1) for k folds when
they are not known. p-values are corrected across the tested pairs with Benjamini-Hochberg.

A pair with fewer than two folds (one predefined test split) cannot be tested: its verdict is
`not tested: n = 1`, it is left out of the correction, and a warning reaches the console.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.logs import CONSOLE
from analysis.mtl.controls import involves_control, is_control
from analysis.stats.correlations import bh_q_values

logger = logging.getLogger(__name__)

PAIR_KEYS = ["main", "aux"]
NOT_TESTED = "not tested"
VERDICTS = ("gain", "loss", "no significant change", NOT_TESTED)
UNIT = "fold"
PAIR_GAIN_COLUMNS = ["main", "aux", "unit", "n", "n_seeds", "test_train_ratio", "mean_single",
                     "mean_pair", "mean_gain", "ci_low", "ci_high", "mean_relative_gain",
                     "t_statistic", "p_value", "q_value", "verdict"]
CATEGORY_COLUMNS = ["grouping", "category", "n_pairs", "n_main_tasks", "mean_gain", "ci_low", "ci_high",
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


def fold_means(gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, fold, single, pair, gain, relative_gain, n_seeds: seeds averaged in each fold."""
    table = gains if "relative_gain" in gains else gains.assign(
        relative_gain=gains["gain"] / gains["single"])
    return table.groupby([*PAIR_KEYS, "fold"], as_index=False).agg(
        single=("single", "mean"), pair=("pair", "mean"), gain=("gain", "mean"),
        relative_gain=("relative_gain", "mean"), n_seeds=("gain", "size"))


def test_train_ratios(per_fold: pd.DataFrame, fold_sizes: pd.DataFrame | None) -> pd.Series:
    """n_test / n_train of the main task in each row's fold; 1 / (k - 1) where the sizes are not
    known, k being the number of folds the main task has in the gains."""
    folds = per_fold.groupby("main")["fold"].transform("nunique").to_numpy()
    with np.errstate(divide="ignore"):
        ratio = np.where(folds > 1, 1.0 / (folds - 1.0), np.nan)
    if fold_sizes is not None and not fold_sizes.empty:
        sizes = fold_sizes.rename(columns={"task": "main"})[["main", "fold", "n_train", "n_test"]]
        known = per_fold[["main", "fold"]].merge(sizes, on=["main", "fold"], how="left")
        measured = (known["n_test"] / known["n_train"]).where(known["n_train"] > 0).to_numpy()
        ratio = np.where(np.isfinite(measured), measured, ratio)
    return pd.Series(ratio, index=per_fold.index)


def pair_summaries(per_fold: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per ordered pair: folds, seeds, ratio, means and the corrected resampled t-test of the fold
    gains (Nadeau & Bengio 2003): variance of the mean (1/n + n_test/n_train) s², n - 1 degrees of
    freedom, the interval at `level`; NaN test where n < 2 or the fold gains do not vary."""
    table = per_fold.groupby(PAIR_KEYS, as_index=False, sort=True).agg(
        n=("gain", "size"), n_seeds=("n_seeds", "max"), test_train_ratio=("ratio", "mean"),
        mean_single=("single", "mean"), mean_pair=("pair", "mean"), mean_gain=("gain", "mean"),
        variance=("gain", "var"), spread=("gain", np.ptp),
        mean_relative_gain=("relative_gain", "mean"))
    tested = ((table["n"] >= 2) & (table["spread"] > 1e-12)).to_numpy()  # rounding is no spread
    n = table["n"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt((1.0 / n + table["test_train_ratio"].to_numpy()) * table["variance"])
        t_statistic = np.where(tested, table["mean_gain"] / se, np.nan)
        half = stats.t.ppf(0.5 + level / 2, n - 1) * se
    table["ci_low"] = np.where(tested, table["mean_gain"] - half, np.nan)
    table["ci_high"] = np.where(tested, table["mean_gain"] + half, np.nan)
    table["t_statistic"] = t_statistic
    table["p_value"] = np.where(tested, 2 * stats.t.sf(np.abs(t_statistic), n - 1), np.nan)
    return table.assign(unit=UNIT)


def verdict(mean_gain: float, q_value: float, alpha: float, n: int = 2) -> str:
    """`gain` / `loss` when the BH q-value is below alpha, `not tested: n = 1` with one fold,
    `not tested: no spread` when the fold gains are all equal, else `no significant change`."""
    if n < 2:
        return f"{NOT_TESTED}: n = {n}"
    if np.isnan(q_value):
        return f"{NOT_TESTED}: no spread"
    if q_value >= alpha:
        return VERDICTS[2]
    return VERDICTS[0] if mean_gain > 0 else VERDICTS[1]


def pair_gain_table(gains: pd.DataFrame, alpha: float = 0.05,
                    fold_sizes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ordered pair: folds, mean gain, corrected 95 % CI and test, BH q, verdict."""
    if gains.empty:
        raise StudyInputError("the gains table is empty: no ordered pair to test")
    gains = without_control_mains(gains)
    per_fold = fold_means(gains)
    per_fold["ratio"] = test_train_ratios(per_fold, fold_sizes)
    table = pair_summaries(per_fold)
    table["q_value"] = bh_q_values(table["p_value"]).to_numpy()
    table["verdict"] = [verdict(m, q, alpha, n) for m, q, n in
                        zip(table["mean_gain"], table["q_value"], table["n"])]
    _warn_untested(table)
    return table[PAIR_GAIN_COLUMNS]


def without_control_mains(gains: pd.DataFrame) -> pd.DataFrame:
    """The gains less those whose main task is a control (`controls: true`): a control's labels
    are shuffled, so its gains measure nothing; (task, task_control) pairs stay, as the control."""
    control_main = np.array([is_control(str(task)) for task in gains["main"]], dtype=bool)
    if control_main.any():
        logger.info("%d gain row(s) with a control task as main task left out", control_main.sum())
    return gains[~control_main]


def _warn_untested(table: pd.DataFrame) -> None:
    single_fold = table[table["n"] < 2]
    if not single_fold.empty:
        logger.warning(
            "%d of %d pair(s) have a single test fold (n = 1) and are NOT TESTED, e.g. %s: seeds "
            "repeated on the same split add no independent fold; use k-fold cross-validation "
            "(`folds`) or more test folds (README, 'Reading the report')", len(single_fold),
            len(table), single_fold[PAIR_KEYS].head(3).to_dict("records"),
            extra={CONSOLE: True})
    constant = table["verdict"] == f"{NOT_TESTED}: no spread"
    if constant.any():
        logger.warning("%d pair(s) have the same gain in every fold: not tested", constant.sum())


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
    # A control pair shares its task's dataset by construction: it is its own category ("aux").
    real = ~involves_control(keys["main"], keys["aux"])
    real_pairs = (keys[real].reset_index(drop=True), main[real].reset_index(drop=True),
                  aux[real].reset_index(drop=True))
    parts = [_same_or_not(*real_pairs, "dataset", ("same dataset", "different datasets")),
             _same_or_not(*real_pairs, "domain", ("same domain", "cross-domain")),
             keys.assign(grouping="aux", category=keys["aux"].astype(str))]
    return pd.concat(parts, ignore_index=True)


def _same_or_not(keys: pd.DataFrame, main: pd.DataFrame, aux: pd.DataFrame, factor: str,
                 names: tuple[str, str]) -> pd.DataFrame:
    """Pairs whose two tasks share `factor` or not; pairs with the factor unknown are left out."""
    known = (main[factor].notna() & aux[factor].notna()).to_numpy()
    same = (main[factor].astype(str) == aux[factor].astype(str)).to_numpy()
    return keys.assign(grouping=factor, category=np.where(same, *names))[known]


def verdict_kind(verdicts: pd.Series) -> pd.Series:
    """The verdict, with every `not tested: ...` reason counted as `not tested`."""
    return verdicts.where(~verdicts.str.startswith(NOT_TESTED), NOT_TESTED)


def main_task_means(categories: pd.DataFrame) -> pd.DataFrame:
    """grouping, category, main, mean_gain: the mean gain of each main task's pairs in a category.

    Pairs of one main task share its single-task baseline and folds, so a category's interval is
    taken over main tasks (the unit of inference), not over its pairs."""
    keys = ["grouping", "category", "main"]
    return categories.groupby(keys, sort=False, as_index=False)["mean_gain"].mean()


def category_summary(pair_gains: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Per grouping and category: pairs, main tasks, mean gain over main tasks with a t CI, and
    verdict counts."""
    categories = pair_categories(pair_gains[PAIR_KEYS], factors).merge(
        pair_gains[[*PAIR_KEYS, "mean_gain", "verdict"]], on=PAIR_KEYS)
    per_main = main_task_means(categories)
    rows = []
    for (grouping, category), group in categories.groupby(["grouping", "category"], sort=False):
        mains = per_main[(per_main["grouping"] == grouping) & (per_main["category"] == category)]
        mean, low, high = mean_interval(mains["mean_gain"].to_numpy())
        counts = verdict_kind(group["verdict"]).value_counts()
        rows.append({"grouping": grouping, "category": category, "n_pairs": len(group),
                     "n_main_tasks": len(mains), "mean_gain": mean, "ci_low": low, "ci_high": high,
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


def write_pair_gains(gains_path: str, out_csv: str, alpha: float = 0.05,
                     fold_sizes_path: str | None = None) -> None:
    """Write `pair_gains.csv`: per ordered pair mean gain, CI, test, q-value and verdict."""
    sizes = read_table(fold_sizes_path) if fold_sizes_path else None
    table = pair_gain_table(read_table(gains_path), alpha, sizes)
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
