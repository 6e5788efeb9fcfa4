"""Study tables, gains, pair features, correlations and gain-sign prediction."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.meta.pair_features import write_pair_features
from analysis.stats.collect import collect_study
from analysis.stats.correlations import correlations_table, write_correlations
from analysis.stats.gains import gains_table, write_gains

FOLDS, SEEDS = (0, 1), (0, 7)


# --- collect_study -------------------------------------------------------------------------------

def write_model(model_dir, scores: dict[str, float], curve: bool = True) -> None:
    """Fake model outputs: metrics (accuracy = score + fold/100 + seed/1000) and a 3-step curve."""
    metrics, curves = [], []
    for task, score in scores.items():
        for fold, seed in itertools.product(FOLDS, SEEDS):
            value = score + fold / 100 + seed / 1000
            metrics += [{"task": task, "fold": fold, "seed": seed, "metric": "accuracy",
                         "value": value},
                        {"task": task, "fold": fold, "seed": seed, "metric": "macro_f1",
                         "value": value - 0.1}]
            curves += [{"task": task, "fold": fold, "seed": seed, "step": step,
                        "loss": 2.0 - step * score} for step in range(3)]
    write_table(pd.DataFrame(metrics), model_dir / "metrics.parquet")
    if curve:
        write_table(pd.DataFrame(curves), model_dir / "curve.parquet")


@pytest.fixture()
def model_dirs(tmp_path) -> tuple[dict[str, str], dict[str, str]]:
    singles = {"kws": 0.80, "spk": 0.60, "esc": 0.50}
    single_dirs = {}
    for task, score in singles.items():
        write_model(tmp_path / "single" / task, {task: score})
        single_dirs[task] = str(tmp_path / "single" / task)
    pair_scores = {"esc__kws": {"esc": 0.55, "kws": 0.78}, "kws__spk": {"kws": 0.85, "spk": 0.58}}
    pair_dirs = {}
    for pair, scores in pair_scores.items():
        write_model(tmp_path / "pair" / pair, scores)
        pair_dirs[pair] = str(tmp_path / "pair" / pair)
    return single_dirs, pair_dirs


def test_collect_study_partners_and_curves(tmp_path, model_dirs) -> None:
    single_dirs, pair_dirs = model_dirs
    collect_study(single_dirs, pair_dirs, str(tmp_path / "runs.parquet"),
                  str(tmp_path / "curves.parquet"))
    runs = read_table(tmp_path / "runs.parquet")
    assert list(runs.columns) == ["task", "partner", "fold", "seed", "metric", "value"]
    assert len(runs) == (3 + 4) * len(FOLDS) * len(SEEDS) * 2
    partners = runs.groupby("task")["partner"].agg(lambda p: sorted(set(p))).to_dict()
    assert partners == {"esc": ["", "kws"], "kws": ["", "esc", "spk"], "spk": ["", "kws"]}
    kws_with_spk = runs.query("task == 'kws' and partner == 'spk' and metric == 'accuracy'")
    assert kws_with_spk.set_index(["fold", "seed"])["value"][(1, 7)] == pytest.approx(0.867)
    curves = read_table(tmp_path / "curves.parquet")
    assert list(curves.columns) == ["task", "fold", "seed", "step", "loss"]
    assert sorted(curves["task"].unique()) == ["esc", "kws", "spk"]  # single-task runs only
    assert len(curves) == 3 * len(FOLDS) * len(SEEDS) * 3


def test_collect_study_is_order_independent(tmp_path, model_dirs) -> None:
    single_dirs, pair_dirs = model_dirs
    collect_study(single_dirs, pair_dirs, str(tmp_path / "a.parquet"), str(tmp_path / "ca.parquet"))
    reversed_singles = dict(reversed(list(single_dirs.items())))
    collect_study(reversed_singles, pair_dirs, str(tmp_path / "b.parquet"),
                  str(tmp_path / "cb.parquet"))
    pd.testing.assert_frame_equal(read_table(tmp_path / "a.parquet"),
                                  read_table(tmp_path / "b.parquet"))


def test_collect_study_missing_metrics_names_the_file(tmp_path, model_dirs) -> None:
    single_dirs, pair_dirs = model_dirs
    single_dirs["new"] = str(tmp_path / "single" / "new")
    with pytest.raises(StudyInputError, match="single/new/metrics.parquet"):
        collect_study(single_dirs, pair_dirs, str(tmp_path / "r.parquet"),
                      str(tmp_path / "c.parquet"))
    assert not (tmp_path / "r.parquet").exists()


def test_collect_study_pair_with_wrong_tasks(tmp_path, model_dirs) -> None:
    single_dirs, pair_dirs = model_dirs
    pair_dirs["esc__spk"] = pair_dirs["esc__kws"]
    with pytest.raises(StudyInputError, match="expected"):
        collect_study(single_dirs, pair_dirs, str(tmp_path / "r.parquet"),
                      str(tmp_path / "c.parquet"))


# --- gains ---------------------------------------------------------------------------------------

def tiny_runs() -> pd.DataFrame:
    """Two tasks, one pair, fold 0..1, seed 0: hand-chosen scores."""
    rows = [
        ("a", "", 0, 0, 0.70), ("a", "", 1, 0, 0.60), ("b", "", 0, 0, 0.50), ("b", "", 1, 0, 0.40),
        ("a", "b", 0, 0, 0.75), ("a", "b", 1, 0, 0.65),
        ("b", "a", 0, 0, 0.45), ("b", "a", 1, 0, 0.30),
    ]
    runs = pd.DataFrame(rows, columns=["task", "partner", "fold", "seed", "value"])
    return pd.concat([runs.assign(metric="accuracy"),
                      runs.assign(metric="macro_f1", value=runs["value"] - 0.2)], ignore_index=True)


def test_gains_sign_and_pairing() -> None:
    gains = gains_table(tiny_runs(), "accuracy")
    assert list(gains.columns) == ["main", "aux", "fold", "seed", "single", "pair", "gain",
                                   "relative_gain"]
    indexed = gains.set_index(["main", "aux", "fold"])
    assert indexed.loc[("a", "b", 0), "single"] == pytest.approx(0.70)
    assert indexed.loc[("a", "b", 0), "pair"] == pytest.approx(0.75)
    assert indexed.loc[("a", "b", 0), "gain"] == pytest.approx(0.05)
    assert indexed.loc[("a", "b", 1), "gain"] == pytest.approx(0.05)
    assert indexed.loc[("b", "a", 0), "gain"] == pytest.approx(-0.05)
    assert indexed.loc[("b", "a", 1), "gain"] == pytest.approx(-0.10)
    assert len(gains) == 4


def test_gains_unknown_metric_names_it(tmp_path) -> None:
    write_table(tiny_runs(), tmp_path / "runs.parquet")
    with pytest.raises(StudyInputError, match="balanced_accuracy"):
        write_gains(str(tmp_path / "runs.parquet"), "balanced_accuracy",
                    str(tmp_path / "g.parquet"))


def test_gains_pair_without_single_run_is_left_out_with_a_warning(caplog) -> None:
    runs = tiny_runs()
    runs = runs[~((runs["task"] == "a") & (runs["partner"] == "") & (runs["fold"] == 1))]
    with caplog.at_level(logging.WARNING):
        gains = gains_table(runs, "accuracy")
    assert len(gains.query("main == 'a'")) == 1
    assert "no single-task run" in caplog.text


def test_write_gains_round_trip(tmp_path) -> None:
    write_table(tiny_runs(), tmp_path / "runs.parquet")
    write_gains(str(tmp_path / "runs.parquet"), "macro_f1", str(tmp_path / "gains.parquet"))
    gains = read_table(tmp_path / "gains.parquet")
    assert gains["single"].tolist() == pytest.approx([0.50, 0.40, 0.30, 0.20])


# --- correlations --------------------------------------------------------------------------------

def small_study(rng: np.random.Generator, n_pairs: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    pairs = pd.DataFrame({"main": [f"m{i}" for i in range(n_pairs)], "aux": "x"})
    gains = pd.concat([pairs.assign(fold=fold, seed=0, single=0.5,
                                    pair=0.5 + rng.normal(0, 0.1, n_pairs)) for fold in (0, 1)])
    gains["gain"] = gains["pair"] - gains["single"]
    features = pairs.assign(main_a=rng.normal(size=n_pairs), main_b=rng.normal(size=n_pairs),
                            main_const=1.0, main_nan=np.nan)
    features.loc[0, "main_b"] = np.nan
    return gains, features


def test_main_task_features_are_tested_over_main_tasks_with_scipy_and_bh() -> None:
    gains, features = small_study(np.random.default_rng(1))
    table = correlations_table(gains, features).set_index("feature")
    mean_gain = gains.groupby("main")["gain"].mean().loc[features["main"]].to_numpy()
    expected_p = []
    for feature in ("main_a", "main_b"):
        valid = features[feature].notna().to_numpy()
        x, y = features[feature].to_numpy()[valid], mean_gain[valid]
        pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
        row = table.loc[feature]
        assert row["n"] == valid.sum()
        assert row["pearson_r"] == pytest.approx(pearson.statistic)
        assert row["pearson_p"] == pytest.approx(pearson.pvalue) == row["p_value"]
        low, high = pearson.confidence_interval(0.95)
        assert (row["pearson_ci_low"], row["pearson_ci_high"]) == pytest.approx((low, high))
        assert (row["unit"], row["method"]) == ("main task", "pearson over tasks")
        assert row["spearman_rho"] == pytest.approx(spearman.statistic)
        assert row["spearman_p"] == pytest.approx(spearman.pvalue)
        expected_p.append(pearson.pvalue)
    expected_q = multipletests(expected_p, method="fdr_bh")[1]
    assert table.loc[["main_a", "main_b"], "q_value"].tolist() == pytest.approx(list(expected_q))
    assert table.loc["main_b", "n"] == 11


def test_correlations_constant_and_nan_features_are_nan_and_last(tmp_path) -> None:
    gains, features = small_study(np.random.default_rng(2))
    write_table(gains, tmp_path / "gains.parquet")
    write_table(features, tmp_path / "pf.parquet")
    write_correlations(str(tmp_path / "gains.parquet"), str(tmp_path / "pf.parquet"),
                       str(tmp_path / "correlations.csv"))
    table = read_table(tmp_path / "correlations.csv")
    assert list(table.columns) == ["feature", "unit", "method", "n", "pearson_r", "pearson_ci_low",
                                   "pearson_ci_high", "pearson_p", "spearman_rho",
                                   "spearman_p", "p_value", "q_value"]
    assert table["p_value"].iloc[:2].is_monotonic_increasing
    assert set(table["feature"].iloc[2:]) == {"main_const", "main_nan"}
    assert table.iloc[2:][["pearson_r", "p_value", "q_value"]].isna().all().all()
    assert table.set_index("feature").loc["main_nan", "n"] == 0


def test_pair_features_get_an_exact_task_relabelling_permutation_test() -> None:
    tasks = ["a", "b", "c"]
    pairs = pd.DataFrame(list(itertools.permutations(tasks, 2)), columns=["main", "aux"])
    gains = pairs.assign(fold=0, seed=0, single=0.5, gain=[0.06, 0.01, -0.02, 0.03, 0.0, 0.02])
    features = pairs.assign(**{"main/aux_f": [3.0, 1.0, 0.2, 2.0, 0.5, 1.5]})
    row = correlations_table(gains, features).iloc[0]
    assert (row["unit"], row["method"]) == ("ordered pair", "task-relabelling permutation")
    gain = dict(zip(zip(pairs["main"], pairs["aux"]), gains["gain"]))
    value = dict(zip(zip(pairs["main"], pairs["aux"]), features["main/aux_f"]))
    observed = stats.pearsonr(features["main/aux_f"], gains["gain"]).statistic
    null = [stats.pearsonr([value[(order[tasks.index(m)], order[tasks.index(a)])]
                            for m, a in gain], list(gain.values())).statistic
            for order in itertools.permutations(tasks)]  # all 3! relabellings
    assert row["pearson_r"] == pytest.approx(observed)
    assert row["p_value"] == pytest.approx(np.mean(np.abs(null) >= abs(observed) - 1e-12))
    assert np.isnan(row["pearson_p"]) and np.isnan(row["pearson_ci_low"])  # no pair-level p


# --- known-effect simulation ---------------------------------------------------------------------

def simulated_study(rng: np.random.Generator,
                    n_tasks: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gain of (main, aux) = 0.04 * (main entropy - mean entropy) + noise; other features random."""
    tasks = [f"task{i}" for i in range(n_tasks)]
    task_features = pd.DataFrame({
        "task": tasks,
        "label_entropy": np.linspace(1.0, 4.5, n_tasks),
        "n_labels": rng.integers(2, 50, n_tasks).astype(float),
        "n_clips": rng.integers(100, 5000, n_tasks).astype(float),
        "mean_duration_s": rng.uniform(1, 10, n_tasks),
        "curve_fit_a": rng.uniform(-1, -0.1, n_tasks),
    })
    entropy = task_features.set_index("task")["label_entropy"]
    rows = []
    for main, aux in itertools.permutations(tasks, 2):
        effect = 0.04 * (entropy[main] - entropy.mean())
        for fold, seed in itertools.product(range(3), range(2)):
            single = 0.7 + rng.normal(0, 0.01)
            rows.append({"main": main, "aux": aux, "fold": fold, "seed": seed, "single": single,
                         "pair": single + effect + rng.normal(0, 0.02)})
    gains = pd.DataFrame(rows).assign(gain=lambda table: table["pair"] - table["single"])
    return gains, task_features


@pytest.fixture()
def simulated_files(tmp_path) -> tuple[str, str]:
    gains, task_features = simulated_study(np.random.default_rng(42))
    write_table(gains, tmp_path / "gains.parquet")
    write_table(task_features, tmp_path / "task_features.parquet")
    write_pair_features(str(tmp_path / "task_features.parquet"), str(tmp_path / "gains.parquet"),
                        str(tmp_path / "pair_features.parquet"))
    return str(tmp_path / "gains.parquet"), str(tmp_path / "pair_features.parquet")


def test_planted_feature_ranks_first(tmp_path, simulated_files) -> None:
    gains_path, pair_features_path = simulated_files
    write_correlations(gains_path, pair_features_path, str(tmp_path / "correlations.csv"))
    table = read_table(tmp_path / "correlations.csv")
    top = table.iloc[0]
    assert top["feature"] == "main_label_entropy"
    assert top["n"] == 8  # main tasks, not 56 ordered pairs
    assert top["pearson_r"] > 0.5 and top["spearman_rho"] > 0.5
    assert top["q_value"] < 0.05
    noise = table[table["feature"].str.contains("n_clips|mean_duration|curve_fit_a")]
    assert (noise["q_value"] > 0.05).mean() > 0.5


def test_collected_runs_give_the_expected_gains(tmp_path, model_dirs) -> None:
    single_dirs, pair_dirs = model_dirs
    runs, curves = str(tmp_path / "runs.parquet"), str(tmp_path / "curves.parquet")
    collect_study(single_dirs, pair_dirs, runs, curves)
    write_gains(runs, "accuracy", str(tmp_path / "gains.parquet"))
    gains = read_table(tmp_path / "gains.parquet")
    mean_gain = gains.groupby(["main", "aux"])["gain"].mean()
    assert mean_gain.to_dict() == pytest.approx({("esc", "kws"): 0.05, ("kws", "esc"): -0.02,
                                                 ("kws", "spk"): 0.05, ("spk", "kws"): -0.02})
    assert len(gains) == 4 * len(FOLDS) * len(SEEDS)
