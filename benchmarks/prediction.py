"""False positive rates and power of the pair predictor and the regression on simulated studies.

Simulated studies with task structure (`tests/simulated_pairs.py`: tasks differ in how much they
gain and help, pairs add their own effect, verdicts from a z-test with Benjamini-Hochberg). Under
the null no feature is related to the gains; with an effect, the normalised label entropy of the main
task shifts its gains (`--effect` per standard deviation). Prints, over `--studies` studies each:

- the share of null studies with p <= 0.05 for the calibrated predictor (`significant_gain`, `gain`)
  with its task-relabelling permutation test, and with pairs shuffled freely instead (what
  `sklearn.model_selection.permutation_test_score` does);
- the same for the regression: 3 features chosen inside each training fold with the
  cross-validated p, against the former default (3 features chosen by |r| on all pairs, then any
  OLS p <= 0.05);
- the share of null studies where the published protocol (Bingel & Sogaard) has a higher mean F1
  than the majority baseline (it has no test of its own);
- power: the share of studies with a planted effect where each calibrated p <= 0.05;
- seconds per study.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/prediction.py [--studies 200] [--tasks 7]
        [--power-tasks 12] [--effect 0.08] [--permutations 99]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import statsmodels.api as sm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from simulated_pairs import simulated_pairs

from analysis.meta.pair_features import pair_features_table
from analysis.stats import prediction
from analysis.stats.bingel_sogaard import published_tables
from analysis.stats.correlations import mean_gains
from analysis.stats.prediction import calibrated_tables, design
from analysis.stats.regression import regression_table, strongest

ALPHA = 0.05


def study(seed: int, n_tasks: int, effect: float, protocol: str = "calibrated"):
    gains, pair_gains, features = simulated_pairs(np.random.default_rng(seed), n_tasks, effect)
    return gains, pair_gains, pair_features_table(features, pair_gains[["main", "aux"]], protocol,
                                                  gains)


def p_values(scores) -> dict[str, float]:
    rows = scores.dropna(subset=["p_value"])
    return dict(zip(rows["target"], rows["p_value"]))


def free_shuffle_p(gains, pair_gains, pair_features, permutations: int, seed: int) -> dict:
    """The calibrated predictor with pairs shuffled freely instead of tasks relabelled."""
    relabel = prediction.task_permutation
    prediction.task_permutation = lambda data, rng: None
    try:
        return p_values(calibrated_tables(gains, pair_gains, pair_features, permutations, seed)[0])
    finally:
        prediction.task_permutation = relabel


def former_regression_finds(gains, pair_features) -> bool:
    """Former default: 3 features by |r| on all pairs, OLS; any feature with p <= alpha."""
    data = design(mean_gains(gains), pair_features, "gain")
    x = np.nan_to_num((data.x - np.nanmean(data.x, axis=0))
                      / np.where(np.nanstd(data.x, axis=0) > 0, np.nanstd(data.x, axis=0), 1))
    chosen = strongest(x, data.y, 3)
    fit = sm.OLS(data.y, sm.add_constant(x[:, chosen])).fit()
    return bool((fit.pvalues[1:] <= ALPHA).any())


def rate(values: list[float]) -> str:
    values = np.array([v for v in values if np.isfinite(v)])
    return f"{np.mean(values <= ALPHA):.3f} of {len(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=7)
    parser.add_argument("--power-tasks", type=int, default=12)
    parser.add_argument("--effect", type=float, default=0.08)
    parser.add_argument("--permutations", type=int, default=99)
    parser.add_argument("--published-repetitions", type=int, default=10)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    null = {key: [] for key in ("significant_gain", "gain", "free significant_gain", "free gain",
                                "regression", "former regression", "published F1 > majority")}
    start = time.perf_counter()
    for seed in range(args.studies):
        gains, pair_gains, pair_features = study(10_000 + seed, args.tasks, 0.0)
        p = p_values(calibrated_tables(gains, pair_gains, pair_features, args.permutations, seed)[0])
        free = free_shuffle_p(gains, pair_gains, pair_features, args.permutations, seed)
        for target in ("significant_gain", "gain"):
            null[target].append(p.get(target, np.nan))
            null[f"free {target}"].append(free.get(target, np.nan))
        null["regression"].append(regression_table(gains, pair_features, 3, args.permutations,
                                                   seed)["cv_p_value"].iloc[0])
        null["former regression"].append(0.0 if former_regression_finds(gains, pair_features)
                                         else 1.0)
        published_features = study(10_000 + seed, args.tasks, 0.0, "bingel_sogaard")[2]
        scores = published_tables(gains, published_features, args.published_repetitions)[0]
        f1 = scores[scores["metric"] == "f1_gain"].set_index("model")["value"]
        null["published F1 > majority"].append(0.0 if f1["logistic"] > f1["majority"] else 1.0)
    seconds = (time.perf_counter() - start) / args.studies
    print(f"null studies ({args.tasks} tasks, {args.permutations} permutations), share of studies "
          f"where the procedure finds something (p <= {ALPHA}; for the former regression any "
          "OLS p, for the published protocol a mean F1 above the majority baseline's):")
    for key, values in null.items():
        print(f"  {key:28s} {rate(values)}")
    power = {"significant_gain": [], "gain": [], "regression": []}
    for seed in range(args.studies):
        gains, pair_gains, pair_features = study(20_000 + seed, args.power_tasks, args.effect)
        p = p_values(calibrated_tables(gains, pair_gains, pair_features, args.permutations, seed)[0])
        for target in ("significant_gain", "gain"):
            power[target].append(p.get(target, np.nan))
        power["regression"].append(regression_table(gains, pair_features, 3, args.permutations,
                                                    seed)["cv_p_value"].iloc[0])
    print(f"power ({args.power_tasks} tasks, effect {args.effect} per sd of the main task's "
          f"normalised label entropy), share with p <= {ALPHA}:")
    for key, values in power.items():
        print(f"  {key:28s} {rate(values)}")
    print(f"seconds per null study (all procedures): {seconds:.2f}")


if __name__ == "__main__":
    main()
