"""False-positive rates and power of the pair tests and the feature tests on simulated studies.

Each scenario simulates studies in the `external_results` format (analysis.stats.simulation:
shared folds, task effects, seeds), imports and analyses them, and prints the fraction of studies
in which each procedure reported something, for the corrected procedures of the pipeline and for
the naive ones (every fold x seed gain an independent sample; every ordered pair an independent
point). A binomial 95 % interval of each rate is printed beside it.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/calibration.py [--studies 200] [--alpha 0.05]
        [--scenario "(c'')"]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

from analysis.stats.simulation import Design, outcomes

SCENARIOS = {
    "(a) no gain anywhere; fold-shared deviations": (
        Design(n_tasks=6), ["any_pair_corrected", "any_pair_naive"]),
    "(b) gains vary by main and aux task; features unrelated": (
        Design(n_tasks=8, main_sd=0.02, aux_sd=0.01),
        ["any_feature_corrected", "any_feature_naive"]),
    "(c) planted: main feature (0.02 per SD) and 6 pairs (+-0.05)": (
        Design(n_tasks=8, main_sd=0.01, slope=0.02, planted=6, pair_effect=0.05),
        ["planted_feature", "planted_feature_naive", "planted_pairs", "any_feature_corrected",
         "any_feature_naive"]),
    "(c') weaker: main feature (0.01 per SD) and 6 pairs (+-0.03)": (
        Design(n_tasks=8, main_sd=0.01, slope=0.01, planted=6, pair_effect=0.03),
        ["planted_feature", "planted_feature_naive", "planted_pairs"]),
    "(c'') as (c), 10 tasks, 10 folds, 1 seed (the design of the power test)": (
        Design(n_tasks=10, folds=10, seeds=1, main_sd=0.01, slope=0.02, planted=6,
               pair_effect=0.05),
        ["planted_feature", "planted_feature_naive", "planted_pairs", "any_feature_corrected",
         "any_feature_naive"]),
}


def interval(successes: float, n: int) -> str:
    low, high = stats.binomtest(round(successes), n).proportion_ci(0.95)
    return f"[{low:.3f}, {high:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--permutations", type=int, default=199)
    parser.add_argument("--scenario", default="", help="run only scenarios whose name has this")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, (design, keys) in SCENARIOS.items():
            if arguments.scenario not in name:
                continue
            start = time.perf_counter()
            results = [outcomes(Path(tmp) / "study", seed, design, arguments.alpha,
                                arguments.permutations) for seed in range(arguments.studies)]
            print(f"{name}  [{design}]")
            for key in keys:
                values = np.array([result[key] for result in results], dtype=float)
                rate = float(np.nanmean(values))
                print(f"  {key:24s} {rate:.3f}  {interval(rate * len(values), len(values))}")
            print(f"  ({arguments.studies} studies, {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
