"""Affinity against measured gains (analysis.stats.affinity_gain): calibrated on simulated studies
with the structure of a real one (ordered pairs sharing main and auxiliary tasks, folds shared by
every pair), and the summary of the probe's measurements (analysis.stats.affinity)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from analysis.stats.affinity import summarise_affinity
from analysis.stats.affinity_gain import (
    affinity_vs_gain,
    relabelling_p_values,
    relabellings,
    top_k_precision,
)

ALPHA = 0.05


def simulated_pairs(rng: np.random.Generator, n_tasks: int, signal: float,
                    n_folds: int = 10) -> pd.DataFrame:
    """main, aux, gain, affinity of every ordered pair: fold means of per-fold values with main-
    and aux-task effects in both, a fold effect shared by a main task's pairs (gains) or by every
    pair (affinity), and a pair effect in the gain that the affinity sees `signal` times."""
    tasks = [f"t{i}" for i in range(n_tasks)]
    pairs = [(m, a) for m in range(n_tasks) for a in range(n_tasks) if m != a]
    main, aux = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    pair_effect = rng.normal(size=len(pairs))
    gain_tasks, affinity_tasks = rng.normal(0, 0.5, (2, n_tasks)), rng.normal(0, 0.5, (2, n_tasks))
    fold_gain = rng.normal(size=(n_folds, n_tasks))[:, main]  # (folds, pairs)
    fold_affinity = rng.normal(size=(n_folds, 1))
    gain = (gain_tasks[0, main] + gain_tasks[1, aux] + pair_effect + fold_gain
            + rng.normal(size=(n_folds, len(pairs))))
    affinity = (affinity_tasks[0, main] + affinity_tasks[1, aux] + signal * pair_effect
                + fold_affinity + rng.normal(size=(n_folds, len(pairs))))
    return pd.DataFrame({"main": [tasks[m] for m in main], "aux": [tasks[a] for a in aux],
                         "gain": gain.mean(axis=0), "affinity": affinity.mean(axis=0)})


@cache
def all_relabellings(main: tuple[str, ...], aux: tuple[str, ...]) -> np.ndarray:
    return relabellings(np.array(main), np.array(aux), 0, np.random.default_rng(0))[0]


def p_values(table: pd.DataFrame, k: int = 2) -> tuple[float, float]:
    main = table["main"].to_numpy(str)
    orders = all_relabellings(tuple(main), tuple(table["aux"]))
    return relabelling_p_values(table["affinity"].to_numpy(), table["gain"].to_numpy(), main,
                                orders, k)


def test_relabelling_tests_are_calibrated_on_null_studies() -> None:
    rng = np.random.default_rng(11)
    p = np.array([p_values(simulated_pairs(rng, 5, signal=0.0)) for _ in range(400)])
    rate = (p < ALPHA).mean(axis=0)
    # binomial(400, 0.05): 99.9 % of rates fall below 0.09; the exact test is conservative
    assert rate[0] < 0.09 and rate[1] < 0.09, rate
    assert rate[0] > 0.01, rate  # not dead either


def test_relabelling_tests_find_a_planted_affinity() -> None:
    rng = np.random.default_rng(12)
    p = np.array([p_values(simulated_pairs(rng, 6, signal=2.0)) for _ in range(40)])
    assert (p[:, 0] < ALPHA).mean() > 0.8
    assert (p[:, 1] < ALPHA).mean() > 0.5


def test_top_k_precision_counts_shared_partners() -> None:
    main = np.array(["a", "a", "a", "b", "b", "b"])
    gain = np.array([3.0, 2.0, 1.0, 1.0, 2.0, 3.0])
    assert top_k_precision(gain, gain, main, 2) == 1.0
    assert top_k_precision(-gain, gain, main, 1) == 0.0
    assert top_k_precision(np.array([3.0, 1.0, 2.0, 1.0, 3.0, 2.0]), gain, main, 2) == 0.75


def test_relabellings_need_every_ordered_pair() -> None:
    orders, how = relabellings(np.array(["a", "b"]), np.array(["b", "c"]), 9,
                               np.random.default_rng(0))
    assert orders.shape == (0, 2) and how.startswith("none")


def test_affinity_vs_gain_scores_each_predictor_on_the_pairs_without_controls() -> None:
    table = simulated_pairs(np.random.default_rng(3), 5, signal=3.0)
    gains = table.rename(columns={"gain": "mean_gain"})
    control = pd.DataFrame({"main": ["t0"], "aux": ["t0_control"], "mean_gain": [0.0]})
    affinity = table.rename(columns={"affinity": "lookahead"}).assign(cosine=table["affinity"])
    features = table[["main", "aux"]].assign(**{"log_main/aux_n_clips": 0.0, "f": table["gain"]})
    result = affinity_vs_gain(affinity, pd.concat([gains, control]), features, boots=200)
    rows = result.set_index("predictor")
    assert rows.loc["affinity_lookahead", "n_pairs"] == 20  # the control pair is left out
    assert rows.loc["affinity_lookahead", "spearman_rho"] > 0.5
    low, high = rows.loc["affinity_lookahead", ["spearman_ci_low", "spearman_ci_high"]]
    assert low <= rows.loc["affinity_lookahead", "spearman_rho"] <= high
    assert rows.loc["affinity_lookahead", "spearman_p"] < ALPHA
    assert rows.loc["size_ratio", "note"]  # no spread in the size ratio: said, not scored
    assert np.isnan(rows.loc["size_ratio", "spearman_rho"])


def test_affinity_summary_has_one_row_per_ordered_pair_with_fold_intervals() -> None:
    rng = np.random.default_rng(0)
    probes = pd.DataFrame([
        {"fold": f, "seed": s, "step": step, "main": m, "aux": a,
         "lookahead": 0.01 + 0.001 * rng.normal(), "cosine": 0.5 + 0.1 * rng.normal()}
        for f in range(4) for s in range(2) for step in (0, 10)
        for m, a in [("x", "y"), ("y", "x")]
    ])
    table = summarise_affinity(probes).set_index(["main", "aux"])
    assert list(table.index) == [("x", "y"), ("y", "x")]
    row = table.loc[("x", "y")]
    assert (row["n_folds"], row["n_seeds"], row["n_probes"]) == (4, 2, 16)
    assert row["lookahead_ci_low"] < row["lookahead"] < row["lookahead_ci_high"]
    assert -1.0 <= row["cosine_ci_low"] <= row["cosine_ci_high"] <= 1.0
    assert row["lookahead"] == pytest.approx(probes.query("main == 'x'")["lookahead"].mean())


def test_pairs_chosen_by_a_budget_are_described_not_tested() -> None:
    table = simulated_pairs(np.random.default_rng(4), 5, signal=3.0)
    chosen = table.sort_values("affinity").groupby("main").tail(2)  # as pairs.select: affinity
    gains = chosen.rename(columns={"gain": "mean_gain"})
    affinity = table.rename(columns={"affinity": "lookahead"}).assign(cosine=table["affinity"])
    features = table[["main", "aux"]].assign(**{"log_main/aux_n_clips": 0.0})
    row = affinity_vs_gain(affinity, gains, features, boots=50).set_index("predictor")
    row = row.loc["affinity_lookahead"]
    assert row["n_pairs"] == 10 and np.isfinite(row["spearman_rho"])
    assert np.isnan(row["spearman_p"]) and np.isnan(row["top_k_p"])
    assert "not tested" in row["note"]
