"""Per-pair gain tests and verdicts, pair categories, per-class gains, regression, per-class collection."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.stats.collect import collect_fold_sizes, collect_study
from analysis.stats.correlations import correlations_table
from analysis.stats.gain_tests import (
    category_summary,
    class_gain_table,
    pair_gain_table,
)
from analysis.stats.regression import regression_table


def gains_of(pairs: dict[tuple[str, str], list[float]], single: float = 0.5) -> pd.DataFrame:
    rows = [{"main": m, "aux": a, "fold": i, "seed": 0, "single": single, "pair": single + g,
             "gain": g, "relative_gain": g / single}
            for (m, a), values in pairs.items() for i, g in enumerate(values)]
    return pd.DataFrame(rows)


def test_pair_tests_are_corrected_resampled_t_tests_with_bh_and_verdicts() -> None:
    pairs = {("a", "b"): [0.10, 0.12, 0.09, 0.11, 0.10], ("b", "a"): [-0.10, -0.12, -0.08, -0.11, -0.09],
             ("a", "c"): [0.05, -0.04, 0.02, -0.03, 0.01], ("c", "a"): [0.02] * 5}
    table = pair_gain_table(gains_of(pairs)).set_index(["main", "aux"])
    ab = np.array(pairs[("a", "b")])
    # Nadeau & Bengio: variance (1/J + n_test/n_train) s^2, J - 1 df; 5 folds, sizes unknown: 1/4
    se = np.sqrt((1 / 5 + 1 / 4) * ab.var(ddof=1))
    assert table.loc[("a", "b"), "t_statistic"] == pytest.approx(ab.mean() / se)
    assert table.loc[("a", "b"), "p_value"] == pytest.approx(2 * stats.t.sf(ab.mean() / se, 4))
    assert table.loc[("a", "b"), "p_value"] > stats.ttest_1samp(ab, 0.0).pvalue  # less optimistic
    low, high = stats.t.interval(0.95, 4, loc=ab.mean(), scale=se)
    assert (table.loc[("a", "b"), "ci_low"], table.loc[("a", "b"), "ci_high"]) == pytest.approx((low, high))
    assert table.loc[("a", "b"), "mean_relative_gain"] == pytest.approx(ab.mean() / 0.5)
    assert (table["unit"] == "fold").all() and (table["n"] == 5).all()
    p_values = table["p_value"].dropna()
    assert table["q_value"].dropna().tolist() == pytest.approx(
        list(multipletests(p_values, method="fdr_bh")[1]))
    assert table["verdict"].to_dict() == {("a", "b"): "gain", ("a", "c"): "no significant change",
                                          ("b", "a"): "loss", ("c", "a"): "not tested: no spread"}


def test_seeds_are_averaged_within_a_fold_and_fold_sizes_give_the_ratio() -> None:
    gains = pd.concat([gains_of({("a", "b"): [0.02, 0.05, 0.01, 0.04]}).assign(seed=s)
                       for s in range(3)], ignore_index=True)
    sizes = pd.DataFrame({"task": "a", "fold": range(4), "n_train": [300, 300, 320, 280],
                          "n_test": [100, 100, 80, 120]})
    row = pair_gain_table(gains, fold_sizes=sizes).iloc[0]
    assert (row["n"], row["n_seeds"]) == (4, 3)  # 12 runs, but 4 independent folds
    ratio = np.mean([100 / 300, 100 / 300, 80 / 320, 120 / 280])
    assert row["test_train_ratio"] == pytest.approx(ratio)
    fold_gains = np.array([0.02, 0.05, 0.01, 0.04])
    se = np.sqrt((1 / 4 + ratio) * fold_gains.var(ddof=1))
    assert row["t_statistic"] == pytest.approx(fold_gains.mean() / se)


def test_a_single_fold_is_not_tested_left_out_of_bh_and_warned_on_the_console(tmp_path) -> None:
    gains = pd.concat([gains_of({("a", "b"): [0.08]}).assign(seed=s, gain=0.08 + s / 100)
                       for s in range(3)] + [gains_of({("b", "a"): [0.1, 0.11, 0.12, 0.1]})],
                      ignore_index=True)
    script = tmp_path / "job.py"
    gains.to_parquet(tmp_path / "gains.parquet")
    script.write_text(
        "from analysis.logs import log_to_file\n"
        "from analysis.stats.gain_tests import write_pair_gains\n"
        f"log_to_file({str(tmp_path / 'job.log')!r})\n"
        f"write_pair_gains({str(tmp_path / 'gains.parquet')!r}, {str(tmp_path / 'pg.csv')!r})\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr
    assert "NOT TESTED" in done.stderr and "more test folds" in done.stderr  # on the console
    table = read_table(tmp_path / "pg.csv").set_index(["main", "aux"])
    assert table.loc[("a", "b"), "verdict"] == "not tested: n = 1"
    assert table.loc[("a", "b"), "n"] == 1 and table.loc[("a", "b"), "n_seeds"] == 3
    assert np.isnan(table.loc[("a", "b"), "q_value"])
    # the tested pair alone is corrected: its q equals its p
    assert table.loc[("b", "a"), "q_value"] == pytest.approx(table.loc[("b", "a"), "p_value"])


def test_categories_count_untested_pairs() -> None:
    pair_gains = pd.DataFrame({"main": ["a", "b"], "aux": ["b", "a"], "mean_gain": [0.1, 0.3],
                               "verdict": ["not tested: n = 1", "gain"]})
    factors = pd.DataFrame({"task": ["a", "b"], "dataset": ["d1", "d1"],
                            "domain": ["speech", "speech"]}).astype("string")
    row = category_summary(pair_gains, factors).set_index(["grouping", "category"]).loc[
        ("dataset", "same dataset")]
    assert (row["n_gain"], row["n_not_tested"]) == (1, 1)


def test_categories_by_dataset_domain_and_aux() -> None:
    pair_gains = pd.DataFrame({"main": ["a", "b", "a", "c"], "aux": ["b", "a", "c", "a"],
                               "mean_gain": [0.1, 0.3, -0.2, 0.0],
                               "verdict": ["gain", "gain", "loss", "no significant change"]})
    factors = pd.DataFrame({"task": ["a", "b", "c"], "dataset": ["d1", "d1", "d2"],
                            "domain": ["speech", "speech", None]}).astype("string")
    table = category_summary(pair_gains, factors).set_index(["grouping", "category"])
    assert table.loc[("dataset", "same dataset"), "mean_gain"] == pytest.approx(0.2)
    assert table.loc[("dataset", "different datasets"), "n_pairs"] == 2
    assert table.loc[("dataset", "different datasets"), "n_loss"] == 1
    assert list(table.loc["domain"].index) == ["same domain"]  # c has no declared domain
    assert table.loc[("aux", "a"), "n_pairs"] == 2 and table.loc[("aux", "a"), "mean_gain"] == pytest.approx(0.15)


def test_control_tasks_are_only_controls() -> None:
    folds = [0.02, 0.05, 0.03, 0.04, 0.06]
    gains = gains_of({("a", "b"): folds, ("a", "a_control"): folds, ("a_control", "a"): folds})
    tested = pair_gain_table(gains)
    assert set(zip(tested["main"], tested["aux"])) == {("a", "b"), ("a", "a_control")}
    features = pd.DataFrame({"main": ["a", "a", "a_control"], "aux": ["b", "a_control", "a"],
                             "main_x": [1.0, 1.0, 2.0], "aux_x": [2.0, 1.0, 1.0]})
    correlations = correlations_table(gains, features, permutations=9)
    assert set(correlations["n"]) == {1}  # only the pair (a, b) is a task pair
    pair_gains = tested.assign(verdict="gain")
    factors = pd.DataFrame({"task": ["a", "b", "a_control"], "dataset": ["d1", "d2", "d1"],
                            "domain": ["speech"] * 3}).astype("string")
    table = category_summary(pair_gains, factors).set_index(["grouping", "category"])
    assert list(table.loc["dataset"].index) == ["different datasets"]
    assert table.loc[("aux", "a_control"), "n_pairs"] == 1


def test_category_intervals_are_over_main_tasks() -> None:
    # a's two cross-dataset pairs count once: the mean over main tasks is (0.3 + 0.0) / 2
    pair_gains = pd.DataFrame({"main": ["a", "a", "b"], "aux": ["b", "c", "a"],
                               "mean_gain": [0.2, 0.4, 0.0], "verdict": ["gain"] * 3})
    factors = pd.DataFrame({"task": ["a", "b", "c"], "dataset": ["d1", "d2", "d3"],
                            "domain": ["speech"] * 3}).astype("string")
    row = category_summary(pair_gains, factors).set_index(["grouping", "category"]).loc[
        ("dataset", "different datasets")]
    assert row["n_pairs"] == 3 and row["n_main_tasks"] == 2
    assert row["mean_gain"] == pytest.approx(0.15)
    half_width = stats.t.ppf(0.975, 1) * np.std([0.3, 0.0], ddof=1) / np.sqrt(2)
    assert row["ci_high"] - row["mean_gain"] == pytest.approx(half_width)


def test_categories_need_factors_of_every_task() -> None:
    pair_gains = pd.DataFrame({"main": ["a"], "aux": ["z"], "mean_gain": [0.1], "verdict": ["gain"]})
    factors = pd.DataFrame({"task": ["a"], "dataset": ["d"], "domain": ["speech"]})
    with pytest.raises(StudyInputError, match="'z'"):
        category_summary(pair_gains, factors)


def per_class_rows() -> pd.DataFrame:
    rows = []
    for fold in (0, 1):
        rows += [("a", "", fold, "x", 0.5), ("a", "", fold, "y", 0.8),
                 ("a", "b", fold, "x", 0.6 + fold / 10), ("a", "b", fold, "y", 0.7)]
    table = pd.DataFrame(rows, columns=["task", "partner", "fold", "class", "f1"])
    return table.assign(seed=0, precision=np.nan, recall=np.nan, support=10.0)


def test_class_gains_by_hand() -> None:
    table = class_gain_table(per_class_rows()).set_index("class")
    assert table.loc["x", "gain"] == pytest.approx(0.15)  # (0.1 + 0.2) / 2
    assert table.loc["y", "gain"] == pytest.approx(-0.1)
    assert (table["n"] == 2).all() and (table["main"] == "a").all() and (table["aux"] == "b").all()


def write_fake_model(model_dir, tasks: list[str], per_class: bool = True) -> None:
    metrics = [{"task": t, "fold": 0, "seed": 0, "metric": "accuracy", "value": 0.5} for t in tasks]
    curve = [{"task": t, "fold": 0, "seed": 0, "step": s, "loss": 1.0} for t in tasks for s in range(3)]
    write_table(pd.DataFrame(metrics), model_dir / "metrics.parquet")
    write_table(pd.DataFrame(curve), model_dir / "curve.parquet")
    if per_class:
        rows = [{"task": t, "fold": 0, "seed": 0, "class": c, "precision": 0.5, "recall": 0.5,
                 "f1": 0.5, "support": 4} for t in tasks for c in ("x", "y")]
        write_table(pd.DataFrame(rows), model_dir / "per_class.parquet")


def test_collect_per_class_from_model_dirs(tmp_path, caplog) -> None:
    write_fake_model(tmp_path / "single" / "a", ["a"])
    write_fake_model(tmp_path / "single" / "b", ["b"], per_class=False)
    write_fake_model(tmp_path / "pair" / "a__b", ["a", "b"])
    collect_study({"a": str(tmp_path / "single/a"), "b": str(tmp_path / "single/b")},
                  {"a__b": str(tmp_path / "pair/a__b")}, str(tmp_path / "runs.parquet"),
                  str(tmp_path / "curves.parquet"), str(tmp_path / "per_class.parquet"))
    table = read_table(tmp_path / "per_class.parquet")
    assert list(table.columns) == ["task", "partner", "fold", "seed", "class", "precision",
                                   "recall", "f1", "support"]
    assert sorted(set(zip(table["task"], table["partner"]))) == [("a", ""), ("a", "b"), ("b", "a")]
    assert "single/b/per_class.parquet is missing" in caplog.text


def test_fold_sizes_from_single_models(tmp_path) -> None:
    for task, per_fold in (("a", {"0": 80, "1": 70}), ("m", {"0": 40, "1": 40})):
        folder = tmp_path / "single" / task
        write_fake_model(folder, [task])
        (folder / "efficiency.json").write_text(json.dumps(
            {"n_train_clips_per_fold": {task: per_fold}}))
    confusion = [{"task": "a", "fold": f, "seed": s, "true": t, "predicted": "x", "count": c}
                 for f, counts in ((0, (12, 8)), (1, (20, 10))) for s in (0, 1)
                 for t, c in zip("xy", counts)]
    write_table(pd.DataFrame(confusion), tmp_path / "single/a/confusion.parquet")
    sizes = collect_fold_sizes({t: str(tmp_path / "single" / t) for t in ("a", "m")})
    assert sizes[["task", "fold", "n_train"]].to_dict("list") == {
        "task": ["a", "a", "m", "m"], "fold": [0, 1, 0, 1], "n_train": [80, 70, 40, 40]}
    assert sizes["n_test"].tolist()[:2] == [20, 30]  # first seed's confusion counts
    assert sizes["n_test"].iloc[2:].isna().all()  # no confusion counts: unknown
    # a multilabel task (no confusion counts) falls back to 1 / (k - 1) in the test
    gains = gains_of({("m", "a"): [0.01, 0.03]})
    assert pair_gain_table(gains, fold_sizes=sizes).iloc[0]["test_train_ratio"] == 1.0
    gains = gains_of({("a", "m"): [0.01, 0.03]})
    assert pair_gain_table(gains, fold_sizes=sizes).iloc[0]["test_train_ratio"] == pytest.approx(
        (20 / 80 + 30 / 70) / 2)


def regression_inputs(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    tasks = [f"t{i}" for i in range(6)]
    pairs = pd.DataFrame(list(itertools.permutations(tasks, 2)), columns=["main", "aux"])
    features = pairs.assign(f_signal=rng.normal(size=len(pairs)), f_copy=0.0,
                            f_noise=rng.normal(size=len(pairs)))
    features["f_copy"] = features["f_signal"] * 2 + 1e-3 * rng.normal(size=len(pairs))
    gains = pairs.assign(fold=0, seed=0, single=0.5,
                         gain=0.03 * features["f_signal"] + rng.normal(0, 0.005, len(pairs)))
    return gains.assign(pair=gains["single"] + gains["gain"]), features


def test_regression_recovers_a_planted_slope_and_skips_collinear_features() -> None:
    gains, features = regression_inputs()
    table = regression_table(gains, features, selection=2, permutations=199).set_index("term")
    assert next(iter(table.index)) == "Intercept" and len(table) == 3
    assert "f_noise" in table.index  # f_copy (|r| > 0.9 with the first pick) is skipped
    signal = "f_signal" if "f_signal" in table.index else "f_copy"
    sd = features[signal].std(ddof=0)
    slope = 0.03 * sd * (1 if signal == "f_signal" else 0.5)
    assert abs(table.loc[signal, "coefficient"] - slope) < 3 * table.loc[signal, "std_error"]
    # chosen on these pairs: no p-value or interval; the test is the cross-validated one
    assert table[["p_value", "ci_low", "ci_high"]].isna().all().all()
    assert table["cv_r_squared"].iloc[0] > 0.8 and table["cv_p_value"].iloc[0] == 1 / 200
    assert (table["permutation"] == "tasks").all()
    alone = regression_table(gains, features.drop(columns="f_copy"), selection=1,
                             permutations=9).set_index("term")
    assert alone.loc["f_signal", "times_selected"] == alone.loc["f_signal", "n_folds"] == 6


def test_regression_fixed_list_and_unknown_feature() -> None:
    gains, features = regression_inputs()
    table = regression_table(gains, features, selection=["f_signal", "f_noise"], permutations=19)
    assert list(table["term"]) == ["Intercept", "f_signal", "f_noise"]
    assert (table["selection"] == "fixed list").all()
    assert table["p_value"].notna().all()  # two-way cluster-robust by main and auxiliary task
    assert table.set_index("term").loc["f_signal", "ci_low"] > 0
    with pytest.raises(StudyInputError, match="analysis.regression_features"):
        regression_table(gains, features, selection=["f_typo"])


def test_regression_with_too_few_pairs_is_nan() -> None:
    gains, features = regression_inputs()
    keep = features.index[:4]
    table = regression_table(gains.loc[keep], features.loc[keep],
                             selection=["f_signal", "f_noise"])
    assert table["coefficient"].isna().all() and table["cv_r_squared"].isna().all()
