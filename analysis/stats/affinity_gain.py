"""How well task affinity, and two cheap baselines, rank the measured pair gains.

Each predictor gives every ordered (main, aux) pair a score; the measured gain is the pair's
`mean_gain` in `pair_gains.csv`. Pairs with a control task are left out (as in the prediction of
the analysis stage: they are not task pairs whose gains anyone would choose between). Predictors:

- `affinity_lookahead`, `affinity_cosine`: the all-task model's affinity (`affinity.csv`);
- `pair_feature_predictor`: the analysis stage's ridge predictor of the gain from the pair
  features, its leave-task-out out-of-fold predictions (no feature of the main task seen in fitting);
- `size_ratio`: log(aux clips / main clips), fixed beforehand (a larger partner helps more).

Per predictor: Spearman's rho over the ordered pairs, with a 95 % percentile interval from a
bootstrap that resamples main tasks (the ordered pairs of one main task share its single-task model
and test folds, so they are not independent: the unit of the interval is the main task); and the
precision of the top-k partners per main task (share of the k partners with the highest score that
are among the k with the highest measured gain, averaged over main tasks; chance is k / (T - 1)).
Both get a p-value from task relabelling (a Mantel-type test: the score of pair (m, a) is replaced
by that of (pi(m), pi(a)) for a permutation pi of the tasks; every permutation when T <= 7), which
keeps the main- and auxiliary-task effects of both tables and the sharing of folds, so it is
calibrated where pairs share tasks (tests/test_affinity_gain.py checks it on simulated studies).
"""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io import write_table
from analysis.mtl.controls import involves_control
from analysis.stats.prediction import design, leave_task_out, not_possible, out_of_fold

logger = logging.getLogger(__name__)

PAIR = ["main", "aux"]
UNIT = "main task"
COMPARISON_COLUMNS = [
    "predictor", "n_pairs", "n_main_tasks", "spearman_rho", "spearman_ci_low", "spearman_ci_high",
    "spearman_p", "top_k", "top_k_precision", "chance_precision", "top_k_p", "unit",
    "permutation", "n_permutations", "n_bootstrap", "note",
]
EXACT_UP_TO = 7  # tasks: every relabelling is used (7! = 5040)
INCOMPLETE_PAIRS = ("not every ordered pair was measured (a budgeted study chose them, e.g. by this "
                    "score): the figures describe the measured pairs only and are not tested")


def relabellings(main: np.ndarray, aux: np.ndarray, permutations: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Index arrays (P x pairs): row p maps pair (m, a) to the pair (pi(m), pi(a)); the identity
    is left out. Empty with a reason when the pairs are not every ordered pair of their tasks."""
    tasks = sorted(set(main) | set(aux))
    index = {(m, a): i for i, (m, a) in enumerate(zip(main, aux))}
    if len(index) != len(tasks) * (len(tasks) - 1):
        return np.empty((0, len(main)), dtype=int), "none: not every ordered pair of the tasks"
    if len(tasks) <= EXACT_UP_TO:
        orders = list(itertools.permutations(range(len(tasks))))[1:]
        how = "tasks (exact)"
    else:
        orders = [rng.permutation(len(tasks)) for _ in range(permutations)]
        how = "tasks (random)"
    position = {task: i for i, task in enumerate(tasks)}
    rows = [[index[(tasks[order[position[m]]], tasks[order[position[a]]])]
             for m, a in zip(main, aux)] for order in orders]
    return np.array(rows, dtype=int), how


def rank_correlation(score: np.ndarray, gain: np.ndarray) -> float:
    return float(stats.spearmanr(score, gain).statistic)


def permuted_rank_correlations(score: np.ndarray, gain: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Spearman's rho of the relabelled scores with the gains, all relabellings at once."""
    ranks = stats.rankdata(score)[orders]  # (P, pairs): ranks are permuted with the values
    gain_ranks = stats.rankdata(gain)
    centred = ranks - ranks.mean(axis=1, keepdims=True)
    g = gain_ranks - gain_ranks.mean()
    return centred @ g / (np.linalg.norm(centred, axis=1) * np.linalg.norm(g))


def top_k_precision(score: np.ndarray, gain: np.ndarray, main: np.ndarray, k: int) -> float:
    """Mean over main tasks of |top-k partners by score & top-k by gain| / k (ties: pair order)."""
    return float(top_k_precisions(score[None, :], gain, main, k)[0])


def top_k_precisions(scores: np.ndarray, gain: np.ndarray, main: np.ndarray, k: int) -> np.ndarray:
    """`top_k_precision` of every row of `scores` (P x pairs) at once."""
    shares = []
    for task in np.unique(main):
        rows = np.flatnonzero(main == task)
        kept = min(k, len(rows))
        best = np.zeros(len(rows), dtype=bool)
        best[np.argsort(-gain[rows], kind="stable")[:kept]] = True
        chosen = np.argsort(-scores[:, rows], axis=1, kind="stable")[:, :kept]
        shares.append(best[chosen].sum(axis=1) / kept)
    return np.mean(shares, axis=0)


def bootstrap_interval(score: np.ndarray, gain: np.ndarray, main: np.ndarray, boots: int,
                       rng: np.random.Generator) -> tuple[float, float]:
    """95 % percentile interval of Spearman's rho, resampling main tasks with their pairs."""
    tasks = np.unique(main)
    rows_of = [np.flatnonzero(main == task) for task in tasks]
    values = []
    for _ in range(boots):
        rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(tasks), len(tasks))])
        if np.ptp(score[rows]) > 0 and np.ptp(gain[rows]) > 0:
            values.append(rank_correlation(score[rows], gain[rows]))
    if len(values) < 2:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def compare_predictor(table: pd.DataFrame, score: str, k: int, permutations: int, boots: int,
                      seed: int) -> dict:
    """One row of COMPARISON_COLUMNS: `table` has main, aux, gain and the column `score`."""
    table = table.dropna(subset=[score, "gain"]).sort_values(PAIR)
    main, aux = table["main"].to_numpy(str), table["aux"].to_numpy(str)
    x, y = table[score].to_numpy(float), table["gain"].to_numpy(float)
    n_tasks = len(set(main) | set(aux))
    row = {"predictor": score, "n_pairs": len(table), "n_main_tasks": len(set(main)), "top_k": k,
           "chance_precision": min(k, n_tasks - 1) / (n_tasks - 1) if n_tasks > 1 else np.nan,
           "unit": UNIT, "n_bootstrap": boots,
           "note": ""}
    if len(table) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return row | {"note": "fewer than 3 pairs, or no spread in the score or the gain"}
    rng = np.random.default_rng(seed)
    orders, how = relabellings(main, aux, permutations, rng)
    rho = rank_correlation(x, y)
    low, high = bootstrap_interval(x, y, main, boots, rng)
    precision = top_k_precision(x, y, main, k)
    row |= {"spearman_rho": rho, "spearman_ci_low": low, "spearman_ci_high": high,
            "top_k_precision": precision, "permutation": how, "n_permutations": len(orders)}
    if len(orders):
        row["spearman_p"], row["top_k_p"] = relabelling_p_values(x, y, main, orders, k)
    else:
        row["note"] = INCOMPLETE_PAIRS
    return row


def relabelling_p_values(score: np.ndarray, gain: np.ndarray, main: np.ndarray,
                         orders: np.ndarray, k: int) -> tuple[float, float]:
    """Task-relabelling p-values of |Spearman's rho| (two-sided) and of the top-k precision."""
    rho = rank_correlation(score, gain)
    precision = top_k_precision(score, gain, main, k)
    permuted = permuted_rank_correlations(score, gain, orders)
    precisions = top_k_precisions(score[orders], gain, main, k)
    return (float((1 + np.sum(np.abs(permuted) >= abs(rho) - 1e-12)) / (1 + len(orders))),
            float((1 + np.sum(precisions >= precision - 1e-12)) / (1 + len(orders))))


def predicted_gains(pair_gains: pd.DataFrame, pair_features: pd.DataFrame) -> pd.DataFrame:
    """main, aux, pair_feature_predictor: leave-task-out out-of-fold ridge predictions."""
    targets = pair_gains[[*PAIR, "mean_gain"]].dropna()
    data = design(targets, pair_features, "mean_gain")
    reason = not_possible(data, "mean_gain", binary=False)
    if reason is not None:
        logger.warning("pair-feature predictor: no prediction (%s)", reason)
        return pd.DataFrame(columns=[*PAIR, "pair_feature_predictor"])
    predicted, _ = out_of_fold(data.y, leave_task_out(data))
    return pd.DataFrame({"main": data.main, "aux": data.aux,
                         "pair_feature_predictor": predicted[:, 0]})


def size_ratio(pair_features: pd.DataFrame) -> pd.DataFrame:
    """main, aux, size_ratio = log(aux clips / main clips) from the pair features."""
    column = "log_main/aux_n_clips"
    values = -pair_features[column] if column in pair_features else math.nan
    return pair_features[PAIR].assign(size_ratio=values)


def affinity_vs_gain(affinity: pd.DataFrame, pair_gains: pd.DataFrame,
                     pair_features: pd.DataFrame, k: int = 2, permutations: int = 999,
                     boots: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per predictor (COMPARISON_COLUMNS), every predictor on the pairs without a control."""
    table = pair_gains[[*PAIR, "mean_gain"]].rename(columns={"mean_gain": "gain"})
    table = table[~involves_control(table["main"], table["aux"])]
    scores = affinity[[*PAIR, "lookahead", "cosine"]].rename(
        columns={"lookahead": "affinity_lookahead", "cosine": "affinity_cosine"})
    for other in (scores, predicted_gains(pair_gains, pair_features), size_ratio(pair_features)):
        table = table.merge(other, on=PAIR, how="left")
    predictors = ["affinity_lookahead", "affinity_cosine", "pair_feature_predictor", "size_ratio"]
    rows = [compare_predictor(table, p, k, permutations, boots, seed) for p in predictors]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def write_affinity_vs_gain(affinity_csv: str, pair_gains_csv: str, pair_features_path: str,
                           out_csv: str, scored_csv: str, k: int, permutations: int, seed: int) -> None:
    """Write `affinity_vs_gain.csv` and the per-pair scores behind it (`scored_csv`)."""
    affinity, gains = pd.read_csv(affinity_csv), pd.read_csv(pair_gains_csv)
    features = pd.read_parquet(pair_features_path)
    write_table(affinity_vs_gain(affinity, gains, features, k, permutations, seed=seed), out_csv)
    write_table(scored_pairs(affinity, gains), scored_csv)


def scored_pairs(affinity: pd.DataFrame, pair_gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, lookahead, cosine, mean_gain, ci_low, ci_high, verdict, control: one row per
    ordered pair with both an affinity and a measured gain (the figure's points)."""
    gains = pair_gains[[*PAIR, "mean_gain", "ci_low", "ci_high", "verdict"]]
    table = affinity[[*PAIR, "lookahead", "cosine"]].merge(gains, on=PAIR, how="inner")
    return table.assign(control=involves_control(table["main"], table["aux"]))
