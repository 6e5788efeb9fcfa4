"""The pair predictor (calibrated and published protocols) and the pair features it reads."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from simulated_pairs import simulated_pairs
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from analysis.errors import StudyInputError
from analysis.io import read_table
from analysis.meta.pair_features import pair_features_table
from analysis.stats.bingel_sogaard import published_tables
from analysis.stats.prediction import (
    RIDGE_ALPHAS,
    SCORE_COLUMNS,
    calibrated_tables,
    design,
    leave_task_out,
    ridge_path,
    task_permutation,
    write_prediction,
)
from analysis.stats.regression import regression_table

ALPHA = 0.05


def study(seed: int, n_tasks: int = 7, effect: float = 0.0,
          protocol: str = "calibrated") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    gains, pair_gains, features = simulated_pairs(np.random.default_rng(seed), n_tasks, effect)
    pair_features = pair_features_table(features, pair_gains[["main", "aux"]], protocol, gains)
    return gains, pair_gains, pair_features


def p_values(tables: pd.DataFrame) -> dict[str, float]:
    rows = tables.dropna(subset=["p_value"])
    return dict(zip(rows["target"], rows["p_value"]))


# --- pair features -------------------------------------------------------------------------------

def tasks_table() -> pd.DataFrame:
    return pd.DataFrame({"task": ["a", "b"], "n_clips": [100.0, 400.0], "snr_db": [10.0, -2.0],
                         "label_entropy": [2.0, 0.0], "curve_grad_10": [-0.1, -0.3],
                         "bs_curve_grad_10": [0.2, -0.4]})


def test_calibrated_pair_features_use_differences_and_log_ratios() -> None:
    pairs = pd.DataFrame({"main": ["a", "b"], "aux": ["b", "a"]})
    table = pair_features_table(tasks_table(), pairs).set_index(["main", "aux"])
    ab = table.loc[("a", "b")]
    assert ab["main-aux_snr_db"] == 12.0 and ab["main-aux_label_entropy"] == 2.0
    assert ab["main-aux_curve_grad_10"] == pytest.approx(0.2)
    assert ab["log_main/aux_n_clips"] == pytest.approx(math.log(0.25))
    assert table.loc[("b", "a"), "log_main/aux_n_clips"] == pytest.approx(math.log(4))
    assert not any(column.startswith(("main/aux_", "main_bs_")) for column in table.columns)


def test_calibrated_pair_features_add_the_single_task_score() -> None:
    pairs = pd.DataFrame({"main": ["a", "b"], "aux": ["b", "a"]})
    gains = pd.DataFrame({"main": ["a", "a", "b"], "aux": ["b", "b", "a"], "fold": [0, 1, 0],
                          "seed": 0, "single": [0.6, 0.8, 0.5]})
    table = pair_features_table(tasks_table(), pairs, gains=gains).set_index(["main", "aux"])
    assert table.loc[("a", "b"), "main_single_score"] == pytest.approx(0.7)
    assert table.loc[("a", "b"), "main-aux_single_score"] == pytest.approx(0.2)


def test_published_pair_features_are_ratios_of_their_curve_features() -> None:
    pairs = pd.DataFrame({"main": ["a", "b"], "aux": ["b", "a"]})
    table = pair_features_table(tasks_table(), pairs, "bingel_sogaard").set_index(["main", "aux"])
    ab = table.loc[("a", "b")]
    assert ab["main_curve_grad_10"] == 0.2  # their definition, under the common name
    assert ab["main/aux_curve_grad_10"] == pytest.approx(-0.5)
    assert ab["main/aux_snr_db"] == pytest.approx(-5.0)
    assert math.isnan(ab["main/aux_label_entropy"])  # 2 / 0
    assert not any("single_score" in column or "-" in column for column in table.columns)


def test_pair_features_errors_name_the_problem() -> None:
    pairs = pd.DataFrame({"main": ["a"], "aux": ["c"]})
    with pytest.raises(StudyInputError, match="'c'"):
        pair_features_table(tasks_table(), pairs)
    with pytest.raises(StudyInputError, match="analysis.protocol"):
        pair_features_table(tasks_table(), pd.DataFrame({"main": ["a"], "aux": ["b"]}), "other")
    with pytest.raises(StudyInputError, match="bs_curve"):
        pair_features_table(tasks_table().drop(columns="bs_curve_grad_10"),
                            pd.DataFrame({"main": ["a"], "aux": ["b"]}), "bingel_sogaard")


# --- the calibrated predictor's pieces -----------------------------------------------------------

def test_leave_task_out_holds_out_every_pair_touching_the_task() -> None:
    _gains, pair_gains, pair_features = study(seed=1)
    data = design(pair_gains.rename(columns={"mean_gain": "gain"}), pair_features, "gain")
    folds = leave_task_out(data)
    tested = np.concatenate([fold.test for fold in folds])
    assert sorted(tested) == list(range(len(data.y)))  # every pair predicted exactly once
    for fold in folds:
        held_out = set(data.main[fold.test])
        assert len(held_out) == 1
        assert not held_out & (set(data.main[fold.train]) | set(data.aux[fold.train]))
        for inner in fold.inner:
            assert set(inner.train) | set(inner.test) <= set(fold.train)


def test_ridge_path_equals_scikit_learn_ridge() -> None:
    _gains, pair_gains, pair_features = study(seed=2)
    data = design(pair_gains.rename(columns={"mean_gain": "gain"}), pair_features, "gain")
    fold = leave_task_out(data)[0]
    path = ridge_path(fold, data.y.reshape(-1, 1))
    x_train = np.nan_to_num(data.x[fold.train])  # the simulated features have no missing value
    scaler = StandardScaler().fit(x_train)
    for index, alpha in enumerate(RIDGE_ALPHAS):
        model = Ridge(alpha=alpha).fit(scaler.transform(x_train), data.y[fold.train])
        expected = model.predict(scaler.transform(data.x[fold.test]))
        np.testing.assert_allclose(path[index, :, 0], expected, rtol=1e-6, atol=1e-9)


def test_task_permutation_relabels_tasks() -> None:
    _gains, pair_gains, pair_features = study(seed=3)
    data = design(pair_gains.rename(columns={"mean_gain": "gain"}), pair_features, "gain")
    order = task_permutation(data, np.random.default_rng(0))
    assert sorted(order) == list(range(len(data.y)))
    image = {}  # the relabelling implied by the main task of each pair's source
    for pair, source in enumerate(order):
        for task, source_task in ((data.main[pair], data.main[source]),
                                  (data.aux[pair], data.aux[source])):
            assert image.setdefault(task, source_task) == source_task
    incomplete = design(pair_gains.iloc[1:].rename(columns={"mean_gain": "gain"}), pair_features,
                        "gain")
    assert task_permutation(incomplete, np.random.default_rng(0)) is None


# --- calibration and power on simulated studies --------------------------------------------------

@pytest.mark.slow
def test_permutation_p_is_calibrated_when_gains_differ_by_task() -> None:
    """No feature matters, tasks differ in how much they gain and help (7 tasks, the default
    study's size): the p-values are close to uniform and p <= alpha in about alpha of studies."""
    studies = 40
    found = {"gain": [], "significant_gain": []}
    for seed in range(studies):
        gains, pair_gains, pair_features = study(seed=1000 + seed)
        scores, _ = calibrated_tables(gains, pair_gains, pair_features, permutations=99, seed=seed)
        for target, p in p_values(scores).items():
            found[target].append(p)
    for target, values in found.items():
        values = np.array(values)
        assert len(values) >= studies * 0.8, target  # a study with < 2 gains has no p
        # At most the 99.9 % quantile of the binomial of a calibrated test.
        assert np.sum(values <= ALPHA) <= stats.binom.isf(0.001, len(values), ALPHA), target
        assert stats.kstest(values, "uniform").pvalue > 0.001, target


def test_a_planted_feature_effect_is_found() -> None:
    """The normalised label entropy of the main task shifts its gains (4 x the spread of the task
    effects it does not explain), 12 tasks: the gain regression's permutation test finds it in
    most studies, where under no effect 4 or more of 10 happen with probability 0.001."""
    found = 0
    for seed in range(10):
        gains, pair_gains, pair_features = study(seed=2000 + seed, n_tasks=12, effect=0.08)
        scores, _coefficients = calibrated_tables(gains, pair_gains, pair_features,
                                                 permutations=99, seed=seed)
        found += p_values(scores)["gain"] <= ALPHA
    assert stats.binom.sf(3, 10, ALPHA) < 0.002
    assert found >= 4


@pytest.mark.slow
def test_regression_with_features_chosen_inside_cv_is_calibrated() -> None:
    """The default regression (3 features chosen by |r| inside each training fold) on studies
    where no feature matters and gains differ by task: its cross-validated p is calibrated."""
    studies = 30
    p = np.array([regression_table(*study(seed=3000 + seed)[::2], selection=3, permutations=99,
                                   seed=seed)["cv_p_value"].iloc[0] for seed in range(studies)])
    assert np.sum(p <= ALPHA) <= stats.binom.isf(0.001, studies, ALPHA)
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_planted_feature_has_the_largest_positive_coefficient() -> None:
    gains, pair_gains, pair_features = study(seed=7, n_tasks=12, effect=0.08)
    _, coefficients = calibrated_tables(gains, pair_gains, pair_features, permutations=9)
    gain = coefficients[coefficients["target"] == "gain"].set_index("feature")
    assert gain["mean_coefficient"].idxmax() == "main_label_norm_entropy"


# --- degenerate inputs and the written tables ----------------------------------------------------

def test_too_few_tasks_or_gains_give_nan_rows_with_the_reason(caplog) -> None:
    gains, pair_gains, pair_features = study(seed=4, n_tasks=3)
    pair_gains["verdict"] = "no significant change"
    with caplog.at_level(logging.WARNING):
        scores, _ = calibrated_tables(gains, pair_gains, pair_features.iloc[:2],
                                      permutations=9)
    assert scores["value"].isna().all() and len(scores) == 4
    assert "at least 3" in caplog.text
    gains, pair_gains, pair_features = study(seed=4)
    pair_gains["verdict"] = "no significant change"
    with caplog.at_level(logging.WARNING):
        scores, _ = calibrated_tables(gains, pair_gains, pair_features, permutations=9)
    by_target = scores.set_index(["target", "model"])["value"]
    assert by_target.loc["significant_gain"].isna().all()
    assert by_target.loc["gain"].notna().all()
    assert "0 pair(s) with a significant gain" in caplog.text


def test_untested_verdicts_are_left_out_and_the_table_says_how_it_permuted(caplog) -> None:
    gains, pair_gains, pair_features = study(seed=5, n_tasks=8, effect=0.03)
    pair_gains.loc[:3, "verdict"] = "not tested: n = 1"
    with caplog.at_level(logging.WARNING):
        scores, _ = calibrated_tables(gains, pair_gains, pair_features, permutations=19)
    rows = scores.set_index(["target", "model"])
    assert rows.loc[("significant_gain", "ridge_classifier"), "n_pairs"] == 56 - 4
    assert rows.loc[("significant_gain", "ridge_classifier"), "permutation"] == "pairs"
    assert rows.loc[("gain", "ridge"), "permutation"] == "tasks"
    assert "left out" in caplog.text and "optimistic" in caplog.text


def test_control_pairs_are_left_out() -> None:
    gains, pair_gains, pair_features = study(seed=9)
    controls = pd.DataFrame({"main": ["task0", "task1_control"], "aux": ["task0_control", "task1"],
                             "mean_gain": [-0.01, 0.0], "verdict": "no significant change"})
    with_controls = pd.concat([pair_gains, controls], ignore_index=True)
    control_features = pair_features.iloc[:2].assign(main=controls["main"].to_numpy(),
                                                     aux=controls["aux"].to_numpy())
    features = pd.concat([pair_features, control_features], ignore_index=True)
    control_gains = controls.rename(columns={"mean_gain": "gain"}).drop(columns="verdict").assign(
        fold=0, seed=0, single=0.7, pair=0.7)
    scores, _ = calibrated_tables(pd.concat([gains, control_gains], ignore_index=True),
                                  with_controls, features, permutations=19)
    expected, _ = calibrated_tables(gains, pair_gains, pair_features, permutations=19)
    pd.testing.assert_frame_equal(scores, expected)


def test_written_tables_name_the_protocol_and_are_reproducible(tmp_path) -> None:
    gains, pair_gains, pair_features = study(seed=6)
    paths = {name: tmp_path / name for name in ("gains.parquet", "pair_gains.csv", "pf.parquet")}
    gains.to_parquet(paths["gains.parquet"])
    pair_gains.to_csv(paths["pair_gains.csv"], index=False)
    pair_features.to_parquet(paths["pf.parquet"])
    for run in ("first", "second"):
        write_prediction(str(paths["gains.parquet"]), str(paths["pair_gains.csv"]),
                         str(paths["pf.parquet"]), str(tmp_path / f"{run}.csv"),
                         str(tmp_path / f"{run}_coefficients.csv"), permutations=19, seed=3)
    first, second = read_table(tmp_path / "first.csv"), read_table(tmp_path / "second.csv")
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == SCORE_COLUMNS and (first["protocol"] == "calibrated").all()
    coefficients = read_table(tmp_path / "first_coefficients.csv")
    assert (coefficients["protocol"] == "calibrated").all()


# --- the published protocol ----------------------------------------------------------------------

def test_published_protocol_reproduces_their_notebook() -> None:
    """The numbers of the code of Bingel & Sogaard (experiments.ipynb), written out here with
    scikit-learn as they wrote it: min-max scaling of all pairs, `LogisticRegression()` of sklearn
    0.18 (liblinear), per-fold F1 of shuffled 5-fold CV averaged, mean and std over repetitions."""
    gains, _pair_gains, pair_features = study(seed=8, protocol="bingel_sogaard")
    scores, _ = published_tables(gains, pair_features, repetitions=20, seed=5)
    table = gains.groupby(["main", "aux"], as_index=False)["gain"].mean().merge(
        pair_features, on=["main", "aux"])
    x = MinMaxScaler().fit_transform(table.drop(columns=["main", "aux", "gain"]).to_numpy())
    y = np.sign(table["gain"].to_numpy())
    means = np.array([cross_val_score(
        LogisticRegression(solver="liblinear"), x, y, scoring="f1",
        cv=KFold(n_splits=5, shuffle=True, random_state=5 + r)).mean() for r in range(20)])
    row = scores.set_index(["model", "metric"]).loc[("logistic", "f1_gain")]
    assert row["value"] == pytest.approx(means.mean()) and row["std"] == pytest.approx(means.std())
    assert (scores["protocol"] == "bingel_sogaard").all() and (scores["cv"] == "shuffled_kfold").all()
