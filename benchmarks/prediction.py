"""Speed of the gain-sign prediction against a plain scikit-learn cross-validation of the same model.

Both run in one process, interleaved over `--repeats` rounds, on a simulated study of `--tasks`
tasks (tasks x (tasks - 1) ordered pairs, 60 pair features), `--repetitions` shuffled 5-fold
repetitions:

- `sklearn`: `sklearn.model_selection.cross_validate` of the same pipeline (median imputation,
  min-max scaling, L2 logistic regression) with accuracy and F1 scorers;
- `analysis`: `analysis.stats.prediction.prediction_tables` (both CV schemes, coefficients).

Prints seconds (median over rounds) and the speed-up of `analysis` over `sklearn`; goal >= 1.

    .venv/bin/python benchmarks/prediction.py [--tasks 7] [--repetitions 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate
from threadpoolctl import threadpool_limits

from analysis.stats.gains import pair_features_table
from analysis.stats.prediction import logistic_model, prediction_design, prediction_tables


def simulated(n_tasks: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    tasks = [f"t{i}" for i in range(n_tasks)]
    features = pd.DataFrame({"task": tasks, **{f"f{j}": rng.normal(size=n_tasks) for j in range(20)}})
    rows = [{"main": m, "aux": a, "fold": 0, "seed": 0, "single": 0.5,
             "gain": 0.05 * features.set_index("task").loc[m, "f0"] + rng.normal(0, 0.02)}
            for m, a in itertools.permutations(tasks, 2)]
    gains = pd.DataFrame(rows).assign(pair=lambda t: t["single"] + t["gain"])
    return gains, pair_features_table(features, gains[["main", "aux"]])


def time_sklearn(gains: pd.DataFrame, pair_features: pd.DataFrame, repetitions: int) -> float:
    design = prediction_design(gains, pair_features)
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=repetitions, random_state=0)
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        cross_validate(logistic_model(0), design.x, design.y, cv=cv, scoring=["accuracy", "f1"])
    return time.perf_counter() - start


def time_analysis(gains: pd.DataFrame, pair_features: pd.DataFrame, repetitions: int) -> float:
    start = time.perf_counter()
    prediction_tables(gains, pair_features, repetitions=repetitions)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--tasks", type=int, default=7)
    parser.add_argument("--repetitions", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    gains, pair_features = simulated(args.tasks)
    times: dict[str, list[float]] = {"sklearn": [], "analysis": []}
    for _ in range(args.repeats):
        times["sklearn"].append(time_sklearn(gains, pair_features, args.repetitions))
        times["analysis"].append(time_analysis(gains, pair_features, args.repetitions))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"{name:>9}: {seconds:.2f} s (median of {args.repeats})")
    print(f"speed-up of analysis over sklearn: {medians['sklearn'] / medians['analysis']:.2f}x")


if __name__ == "__main__":
    main()
