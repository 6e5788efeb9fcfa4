"""Calibration and power of the pair tests and the feature tests on simulated studies.

The studies (analysis.stats.simulation) are written in the `external_results` format and imported:
folds share a training-set deviation, tasks have main effects, runs have seeds. A calibrated
procedure reports something in at most about alpha of the studies where nothing is there; the
tolerance is the 99.9 % quantile of Binomial(studies, alpha), so a calibrated procedure fails a test
about once in a thousand runs. The naive procedures (fold x seed gains as independent samples, ordered
pairs as independent points) are run on the same studies and must fail the same bound: the
simulated dependence is strong enough to matter. benchmarks/calibration.py runs more studies.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.stats.simulation import Design, outcomes

ALPHA = 0.05


def counts(tmp_path, design: Design, studies: int, features: bool) -> dict[str, float]:
    results = [outcomes(tmp_path / "study", seed, design, ALPHA, permutations=99,
                        features=features) for seed in range(studies)]
    return {key: float(np.nansum([result[key] for result in results])) for key in results[0]}


def tolerance(studies: int, rate: float = ALPHA) -> float:
    """Most studies a procedure with false-positive rate `rate` reports in, 99.9 % of the time."""
    return float(stats.binom.ppf(0.999, studies, rate))


@pytest.mark.slow
def test_no_gain_anywhere_gives_at_most_alpha_of_studies_with_a_significant_pair(
        tmp_path) -> None:
    studies = 60
    design = Design(n_tasks=4, folds=5, seeds=2)
    found = counts(tmp_path, design, studies, features=False)
    assert found["any_pair_corrected"] <= tolerance(studies)
    assert found["any_pair_naive"] > tolerance(studies)  # folds as independent: anti-conservative


@pytest.mark.slow
def test_gains_varying_by_task_give_at_most_alpha_of_studies_with_a_significant_feature(
        tmp_path) -> None:
    studies = 40
    design = Design(n_tasks=6, folds=5, seeds=1, main_sd=0.02, aux_sd=0.01)
    found = counts(tmp_path, design, studies, features=True)
    assert found["any_feature_corrected"] <= tolerance(studies)
    assert found["any_feature_naive"] > tolerance(studies)  # 30 pairs as independent points


def test_planted_feature_and_pair_effects_are_found(tmp_path) -> None:
    """Power of at least 0.8 for a main-task feature worth 0.02 macro-F1 per SD among 10 tasks and
    for pair gains of +-0.05 with 10 folds: a count below the 0.1 % quantile of Binomial(n, 0.8)
    rejects it. Other features stay calibrated meanwhile."""
    studies = 12
    design = Design(n_tasks=10, folds=10, seeds=1, main_sd=0.01, slope=0.02, planted=6,
                    pair_effect=0.05)
    found = counts(tmp_path, design, studies, features=True)
    assert found["planted_feature"] >= stats.binom.ppf(0.001, studies, 0.8)
    assert found["planted_pairs"] >= stats.binom.ppf(0.001, studies, 0.8)  # sum of fractions
    assert found["any_feature_corrected"] <= tolerance(studies)
