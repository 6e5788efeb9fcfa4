"""Simulated studies in the `external_results` format, for calibration and power of the tests.

A simulated study has `n_tasks` tasks, every ordered pair, `folds` test folds and `seeds` seeds.
Scores (macro-F1-like, around 0.55-0.85) are built from:

- a task's base score, and a deviation of each (task, fold) (SD `fold_sd`), shared by the task's
  single-task model and all its pair models: the fold's training and test clips are the same;
- seed noise of every trained model (SD `seed_sd`);
- the true gain of the ordered pair: main-task effect (SD `main_sd`) + auxiliary-task effect
  (SD `aux_sd`) + `slope` times the standardised planted feature of the main task + planted pair
  effects (`planted` ordered pairs with a gain of +-`pair_effect`);
- the estimation error of the pair's gain on this study's data (SD `gain_sd` per fold): folds of one
  cross-validation share their training data, so a share rho = n_test / (n_test + n_train) of its
  variance is common to all folds of the pair (Nadeau & Bengio 2003), the rest is fold-specific.

Task features: `label_entropy` (the planted one), and `n_labels`, `n_clips`, `mean_duration_s`,
`snr_db`, unrelated to the gain.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.meta.pair_features import pair_features_table
from analysis.stats.correlations import correlations_table
from analysis.stats.external import read_runs, read_task_table
from analysis.stats.gain_tests import pair_gain_table
from analysis.stats.gains import gains_table

METRIC = "macro_f1"
PLANTED_FEATURE = "label_entropy"


@dataclass(frozen=True)
class Design:
    n_tasks: int = 8
    folds: int = 5
    seeds: int = 2
    fold_sd: float = 0.03
    seed_sd: float = 0.01
    gain_sd: float = 0.015
    main_sd: float = 0.0
    aux_sd: float = 0.0
    slope: float = 0.0
    planted: int = 0
    pair_effect: float = 0.05


def task_features(rng: np.random.Generator, design: Design) -> pd.DataFrame:
    n = design.n_tasks
    return pd.DataFrame({
        "task": [f"task{i}" for i in range(n)],
        PLANTED_FEATURE: rng.uniform(1.0, 5.0, n),
        "n_labels": rng.integers(2, 40, n).astype(float),
        "n_clips": rng.integers(300, 3000, n).astype(float),
        "mean_duration_s": rng.uniform(0.5, 10.0, n),
        "snr_db": rng.normal(15.0, 6.0, n),
    })


def true_gains(rng: np.random.Generator, design: Design, features: pd.DataFrame) -> pd.DataFrame:
    """The population `gain` of every ordered pair (index main, aux) and whether a pair effect was
    `planted` on it."""
    tasks = list(features["task"])
    entropy = features[PLANTED_FEATURE].to_numpy()
    z = (entropy - entropy.mean()) / entropy.std()
    main = dict(zip(tasks, rng.normal(0, design.main_sd, len(tasks)) + design.slope * z))
    aux = dict(zip(tasks, rng.normal(0, design.aux_sd, len(tasks))))
    pairs = list(itertools.permutations(tasks, 2))
    truth = pd.DataFrame({"gain": [main[m] + aux[a] for m, a in pairs], "planted": False},
                         index=pd.MultiIndex.from_tuples(pairs, names=["main", "aux"]))
    for k, i in enumerate(rng.choice(len(pairs), design.planted, replace=False)):
        truth.iloc[i, 0] += design.pair_effect if k % 2 == 0 else -design.pair_effect
        truth.iloc[i, 1] = True
    return truth


def simulate_study(seed: int, design: Design) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """runs.csv and task_features.csv tables of one simulated study, and the true pair gains."""
    rng = np.random.default_rng(seed)
    features = task_features(rng, design)
    truth = true_gains(rng, design, features)
    tasks = list(features["task"])
    n_test = (features["n_clips"] / max(design.folds, 2)).round().astype(int)
    n_train = features["n_clips"].astype(int) - n_test
    sizes = {t: (int(a), int(b)) for t, a, b in zip(tasks, n_train, n_test)}
    base = dict(zip(tasks, rng.uniform(0.55, 0.85, len(tasks))))
    deviation = {(t, f): rng.normal(0, design.fold_sd) for t in tasks for f in range(design.folds)}
    rows = [{"task": t, "partner": "", "fold": f, "seed": s, "n_train": sizes[t][0],
             "n_test": sizes[t][1],
             "score": base[t] + deviation[(t, f)] + rng.normal(0, design.seed_sd)}
            for t in tasks for f in range(design.folds) for s in range(design.seeds)]
    for (main, aux), gain in truth["gain"].items():
        rho = sizes[main][1] / sum(sizes[main])
        shared = gain + rng.normal(0, design.gain_sd * np.sqrt(rho))
        for f in range(design.folds):
            fold_gain = shared + rng.normal(0, design.gain_sd * np.sqrt(1 - rho))
            rows += [{"task": main, "partner": aux, "fold": f, "seed": s, "n_train": "",
                      "n_test": "", "score": base[main] + deviation[(main, f)] + fold_gain
                      + rng.normal(0, design.seed_sd)} for s in range(design.seeds)]
    return pd.DataFrame(rows), features, truth


def write_study(folder: Path, seed: int, design: Design) -> pd.DataFrame:
    """Write runs.csv and task_features.csv of a simulated study; return its true pair gains."""
    runs, features, truth = simulate_study(seed, design)
    folder.mkdir(parents=True, exist_ok=True)
    runs.to_csv(folder / "runs.csv", index=False)
    features.to_csv(folder / "task_features.csv", index=False)
    return truth


def analyse_study(folder: Path, alpha: float = 0.05, permutations: int = 199, seed: int = 0,
                  features: bool = True) -> dict[str, pd.DataFrame]:
    """Import a study written by `write_study` and run the pair tests and (with `features`) the
    feature tests on it, with the corrected procedures and with the naive ones (for comparison)."""
    runs, sizes = read_runs(folder / "runs.csv", METRIC)
    gains = gains_table(runs, METRIC)
    pairs = pair_gain_table(gains, alpha, sizes)
    result = {"pairs": pairs, "naive_pairs": naive_pair_tests(gains)}
    if features:
        table, _ = read_task_table(folder / "task_features.csv", sorted(runs["task"].unique()))
        pair_features = pair_features_table(table, gains[["main", "aux"]].drop_duplicates())
        result["features"] = correlations_table(gains, pair_features, permutations, seed)
        result["naive_features"] = naive_correlations(gains, pair_features)
    return result


def naive_pair_tests(gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, mean_gain, p_value: one-sample t-test of every fold x seed gain of a pair as an
    independent sample (the uncorrected procedure)."""
    table = gains.groupby(["main", "aux"], as_index=False).agg(
        mean_gain=("gain", "mean"), sd=("gain", "std"), n=("gain", "size"))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = table["mean_gain"] / (table["sd"] / np.sqrt(table["n"]))
    table["p_value"] = np.where(table["n"] > 1, 2 * stats.t.sf(np.abs(t), table["n"] - 1), np.nan)
    return table[["main", "aux", "mean_gain", "p_value"]]


def naive_correlations(gains: pd.DataFrame, pair_features: pd.DataFrame) -> pd.DataFrame:
    """feature, p_value: Pearson over the ordered pairs as if they were independent points."""
    table = gains.groupby(["main", "aux"], as_index=False)["gain"].mean().merge(
        pair_features, on=["main", "aux"])
    rows = []
    for feature in pair_features.columns.drop(["main", "aux"]):
        valid = table[[feature, "gain"]].dropna()
        p = (stats.pearsonr(valid[feature], valid["gain"]).pvalue
             if len(valid) > 2 and valid[feature].nunique() > 1 else np.nan)
        rows.append({"feature": feature, "p_value": p})
    return pd.DataFrame(rows)


def outcomes(folder: Path, seed: int, design: Design, alpha: float = 0.05,
             permutations: int = 199, features: bool = True) -> dict[str, float]:
    """Simulate, import and analyse one study; what each procedure reported.

    `any_pair_*`: some pair whose true gain is 0 was called significant (BH q < alpha);
    `any_feature_*`: some feature other than the planted one (or any, without a slope) was;
    `planted_feature`: the planted main-task feature was found; `planted_pairs`: the fraction of
    planted pairs found with the right sign (NaN without planted pairs).
    """
    truth = write_study(folder, seed, design)
    result = analyse_study(folder, alpha, permutations, seed, features)
    null_pairs = set(truth.index[truth["gain"] == 0])
    pairs = result["pairs"].set_index(["main", "aux"])
    naive = result["naive_pairs"].set_index(["main", "aux"])
    naive_q = pd.Series(multipletests(naive["p_value"], method="fdr_bh")[1], index=naive.index)
    called = pairs.index[pairs["verdict"].isin(["gain", "loss"])]
    planted = truth.index[truth["planted"]]
    found = [pair for pair in planted if pair in called and
             np.sign(pairs.loc[pair, "mean_gain"]) == np.sign(truth.loc[pair, "gain"])]
    pair_outcomes = {
        "any_pair_corrected": float(any(pair in null_pairs for pair in called)),
        "any_pair_naive": float(any(pair in null_pairs for pair in naive_q.index[naive_q < alpha])),
        "planted_pairs": len(found) / len(planted) if len(planted) else np.nan}
    if not features:
        return pair_outcomes
    return {**pair_outcomes, **feature_outcomes(result, design, alpha)}


def feature_outcomes(result: dict[str, pd.DataFrame], design: Design,
                     alpha: float) -> dict[str, float]:
    features = result["features"].set_index("feature")["q_value"]
    naive_features = multipletests(result["naive_features"]["p_value"].fillna(1.0),
                                   method="fdr_bh")[1]
    naive_features = pd.Series(naive_features, index=result["naive_features"]["feature"])
    planted_name = f"main_{PLANTED_FEATURE}"
    others = [f for f in features.index if not (design.slope and PLANTED_FEATURE in f)]
    return {"any_feature_corrected": float((features[others] < alpha).any()),
            "any_feature_naive": float((naive_features[others] < alpha).any()),
            "planted_feature": float(features.get(planted_name, np.nan) < alpha),
            "planted_feature_naive": float(naive_features.get(planted_name, np.nan) < alpha)}
