"""Report figures are written as non-empty PNGs from small long-form tables."""

from __future__ import annotations

import itertools

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from analysis.io import write_table
from analysis.report.figures import (
    gain_matrix,
    heatmap_labels,
    plot_correlations,
    plot_gain_heatmap,
    top_correlations,
)
from analysis.report.study_figures import (
    largest_class_changes,
    plot_class_gains,
    plot_feature_scatter,
    plot_gain_categories,
    plot_layer_variances,
    plot_learning_curves,
    plot_prediction,
)
from analysis.stats.gain_tests import pair_gain_table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    return path.exists() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_SIGNATURE


def small_gains() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"main": main, "aux": aux, "fold": fold, "seed": 0, "single": 0.6}
            for main, aux in itertools.permutations(["esc", "kws", "spk"], 2) for fold in (0, 1)]
    gains = pd.DataFrame(rows)
    gains["pair"] = gains["single"] + rng.normal(0, 0.05, len(gains))
    return gains.assign(gain=gains["pair"] - gains["single"])


def small_correlations(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    r = rng.uniform(-0.9, 0.9, n)
    table = pd.DataFrame({"feature": [f"main_f{i}" for i in range(n)], "n": 20,
                          "pearson_r": r, "pearson_ci_low": r - 0.1, "pearson_ci_high": r + 0.1,
                          "pearson_p": rng.uniform(0, 1, n),
                          "spearman_rho": 0.0, "spearman_p": 0.5,
                          "q_value": rng.uniform(0, 0.2, n)})
    table.loc[table.index.isin([3, 7]), ["pearson_r", "pearson_p", "q_value"]] = np.nan
    return table


def test_gain_matrix_is_task_by_task_with_empty_diagonal() -> None:
    matrix = gain_matrix(pair_gain_table(small_gains()))
    assert list(matrix.index) == list(matrix.columns) == ["esc", "kws", "spk"]
    assert np.isnan(np.diag(matrix.to_numpy())).all()
    expected = small_gains().query("main == 'kws' and aux == 'spk'")["gain"].mean()
    assert matrix.loc["kws", "spk"] == pytest.approx(expected)


def test_control_tasks_are_columns_of_the_gain_matrix_not_rows() -> None:
    gains = pd.concat([small_gains(), small_gains().query("main == 'kws' and aux == 'spk'")
                       .assign(aux="kws_control")])
    matrix = gain_matrix(pair_gain_table(gains))
    assert list(matrix.index) == ["esc", "kws", "spk"]
    assert list(matrix.columns) == ["esc", "kws", "kws_control", "spk"]
    assert not np.isnan(matrix.loc["kws", "kws_control"])


def test_heatmap_labels_mark_significant_cells() -> None:
    means = pd.DataFrame([[np.nan, 0.1234], [-0.05, np.nan]])
    q_values = pd.DataFrame([[np.nan, 0.01], [0.3, np.nan]])
    assert heatmap_labels(means, q_values, 0.05).tolist() == [["", "0.123*"], ["-0.050", ""]]


def test_heatmap_labels_show_untested_pairs_with_their_n_and_no_star() -> None:
    means = pd.DataFrame([[np.nan, 0.1234], [-0.05, np.nan]])
    q_values = pd.DataFrame([[np.nan, np.nan], [0.01, np.nan]])
    folds = pd.DataFrame([[np.nan, 1.0], [5.0, np.nan]])
    assert heatmap_labels(means, q_values, 0.05, folds).tolist() == [["", "0.123\nn = 1"],
                                                                     ["-0.050*", ""]]


def test_heatmap_marks_untested_cells_apart_and_uses_alpha(tmp_path, monkeypatch) -> None:
    gains = pd.concat([small_gains(), small_gains().query("fold == 0").assign(
        main="esc", aux="new")], ignore_index=True)  # esc + new: one fold
    gains = gains.drop_duplicates(["main", "aux", "fold", "seed"])
    write_table(pair_gain_table(gains), tmp_path / "pair_gains.csv")
    patches = []
    original = matplotlib.axes.Axes.add_patch
    monkeypatch.setattr(matplotlib.axes.Axes, "add_patch",
                        lambda self, patch: patches.append(patch) or original(self, patch))
    titles = []
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title",
                        lambda self, text, *a, **k: titles.append(text))
    plot_gain_heatmap(str(tmp_path / "pair_gains.csv"), str(tmp_path / "h.png"), alpha=0.2)
    dotted = [p for p in patches if p.get_linestyle() == ":"]
    hatched = [p for p in patches if p.get_hatch()]
    # tasks sorted: esc, kws, new, spk; the (esc, new) cell is row 0, column 2
    assert len(dotted) == 1 and dotted[0].get_xy() == pytest.approx((2.04, 0.04))
    assert all(tuple(p.get_xy()) != (2, 0) for p in hatched)  # the untested cell is not hatched
    assert "q < 0.2" in titles[0] and "n = 1 to 2 folds per pair" in titles[0]
    assert "not tested (n = 1)" in titles[0]


def test_plot_gain_heatmap_writes_png(tmp_path) -> None:
    write_table(pair_gain_table(small_gains()), tmp_path / "pair_gains.csv")
    out = tmp_path / "figures" / "gain_heatmap.png"
    plot_gain_heatmap(str(tmp_path / "pair_gains.csv"), str(out), metric="accuracy")
    assert is_png(out)


def test_study_figures_write_pngs(tmp_path) -> None:
    gains = small_gains()
    write_table(gains, tmp_path / "gains.parquet")
    write_table(pair_gain_table(gains), tmp_path / "pair_gains.csv")
    factors = pd.DataFrame({"task": ["esc", "kws", "spk"], "dataset": ["e", "k", "k"],
                            "domain": ["environment", "speech", "speech"]})
    write_table(factors, tmp_path / "factors.parquet")
    pairs = gains[["main", "aux"]].drop_duplicates()
    rng = np.random.default_rng(2)
    write_table(pairs.assign(main_f=rng.normal(size=6), aux_g=rng.normal(size=6)),
                tmp_path / "pf.parquet")
    correlations = small_correlations(2).assign(feature=["main_f", "aux_g"], q_value=[0.01, 0.5])
    write_table(correlations, tmp_path / "correlations.csv")
    steps = np.arange(50)
    curves = pd.concat([pd.DataFrame({"task": t, "fold": 0, "seed": 0, "step": steps,
                                      "loss": -0.3 * np.log(0.1 * steps + 1) + 2})
                        for t in ("esc", "kws")])
    write_table(curves, tmp_path / "curves.parquet")
    scores = pd.DataFrame([{"protocol": "calibrated", "target": target, "model": m,
                            "metric": k, "value": 0.6, "std": np.nan,
                            "p_value": 0.04 if "dummy" not in m else np.nan}
                           for target, k, models in (
                               ("significant_gain", "balanced_accuracy",
                                ("ridge_classifier", "stratified_dummy")),
                               ("gain", "r_squared", ("ridge", "mean_dummy")))
                           for m in models])
    write_table(scores, tmp_path / "prediction.csv")
    class_gains = pairs.assign(**{"class": "x", "n": 2, "single_f1": 0.5, "pair_f1": 0.6,
                                  "gain": rng.normal(size=6), "support": 3.0})
    write_table(class_gains, tmp_path / "class_gains.csv")
    outputs = {
        "categories": lambda out: plot_gain_categories(str(tmp_path / "pair_gains.csv"),
                                                       str(tmp_path / "factors.parquet"), out),
        "scatter": lambda out: plot_feature_scatter(str(tmp_path / "correlations.csv"),
                                                    str(tmp_path / "gains.parquet"),
                                                    str(tmp_path / "pf.parquet"), out),
        "curves": lambda out: plot_learning_curves(str(tmp_path / "curves.parquet"), out),
        "prediction": lambda out: plot_prediction(str(tmp_path / "prediction.csv"), out),
        "classes": lambda out: plot_class_gains(str(tmp_path / "class_gains.csv"), out),
    }
    for name, plot in outputs.items():
        plot(str(tmp_path / f"{name}.png"))
        assert is_png(tmp_path / f"{name}.png"), name


def test_empty_tables_still_give_figures(tmp_path) -> None:
    write_table(pd.DataFrame(columns=["main", "aux", "class", "n", "single_f1", "pair_f1", "gain",
                                      "support"]), tmp_path / "class_gains.csv")
    plot_class_gains(str(tmp_path / "class_gains.csv"), str(tmp_path / "classes.png"))
    assert is_png(tmp_path / "classes.png")
    scores = pd.DataFrame({"protocol": ["bingel_sogaard"], "target": ["gain_sign"],
                           "model": ["logistic"], "metric": ["accuracy"], "value": [np.nan],
                           "std": [np.nan], "p_value": [np.nan]})
    write_table(scores, tmp_path / "prediction.csv")
    plot_prediction(str(tmp_path / "prediction.csv"), str(tmp_path / "prediction.png"))
    assert is_png(tmp_path / "prediction.png")


def test_layer_variance_panels_follow_forward_order_and_hold_the_log_ratios(
        tmp_path, monkeypatch) -> None:
    from analysis.report import study_figures

    rows = [{"main": main, "aux": aux, "layer": layer, "single": 1.0, "pair": 2.0, "ratio": 2.0,
             "mean_log2_ratio": value, "n_runs": 2}
            for layer, offset in (("2", 0.0), ("10", 1.0))  # forward order is not string order
            for (main, aux), value in zip(itertools.permutations(["a", "b"], 2), (0.5, -0.25))
            for value in [value + offset]]
    write_table(pd.DataFrame(rows), tmp_path / "layer_variances.csv")
    drawn = []
    original = study_figures.sns.heatmap
    monkeypatch.setattr(study_figures.sns, "heatmap",
                        lambda data, **kw: drawn.append(data) or original(data, **kw))
    out = tmp_path / "layer_variances.png"
    plot_layer_variances(str(tmp_path / "layer_variances.csv"), str(out))
    assert is_png(out)
    assert [matrix.loc["a", "b"] for matrix in drawn] == [0.5, 1.5]  # layer 2, then layer 10
    assert [matrix.loc["b", "a"] for matrix in drawn] == [-0.25, 0.75]
    assert all(np.isnan(matrix.loc["a", "a"]) for matrix in drawn)


def test_layer_variance_figure_of_an_empty_table(tmp_path) -> None:
    columns = ["main", "aux", "layer", "single", "pair", "ratio", "mean_log2_ratio", "n_runs"]
    write_table(pd.DataFrame(columns=columns), tmp_path / "layer_variances.csv")
    plot_layer_variances(str(tmp_path / "layer_variances.csv"), str(tmp_path / "empty.png"))
    assert is_png(tmp_path / "empty.png")


def test_largest_class_changes_order_and_labels() -> None:
    table = pd.DataFrame({"main": ["a", "a", "b"], "aux": ["b", "b", "a"], "class": ["x", "y", "z"],
                          "gain": [0.1, -0.3, 0.2]})
    top = largest_class_changes(table, top=2)
    assert list(top["label"]) == ["a + b: y", "b + a: z"]
    assert list(top["direction"]) == ["hurt", "helped"]


def test_top_correlations_skips_nan_and_keeps_strongest() -> None:
    top = top_correlations(small_correlations(), top=25)
    assert len(top) == 25 and top["pearson_r"].notna().all()
    assert top["pearson_r"].abs().is_monotonic_decreasing


def test_plot_correlations_writes_png(tmp_path) -> None:
    write_table(small_correlations(), tmp_path / "correlations.csv")
    out = tmp_path / "correlations.png"
    plot_correlations(str(tmp_path / "correlations.csv"), str(out))
    assert is_png(out)


def test_plot_correlations_all_nan(tmp_path) -> None:
    table = small_correlations(3).assign(pearson_r=np.nan, pearson_p=np.nan, q_value=np.nan)
    write_table(table, tmp_path / "correlations.csv")
    out = tmp_path / "correlations.png"
    plot_correlations(str(tmp_path / "correlations.csv"), str(out))
    assert is_png(out)
