"""Report figures of features, learning curves, prediction, pair categories, per-class gains and
layer variances."""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.io import read_table
from analysis.meta.learning_curve import fit_log_curve, log_curve, mean_curve
from analysis.report.figures import Q_THRESHOLD, gain_matrix, note, save_figure, top_correlations
from analysis.stats.correlations import pair_table
from analysis.stats.gain_tests import main_task_means, pair_categories

logger = logging.getLogger(__name__)

SCATTER_FEATURES = 4
CLASS_CHANGES = 20


def _grid(n_panels: int, columns: int, size: float = 3.2) -> tuple[plt.Figure, np.ndarray]:
    rows = max(1, int(np.ceil(n_panels / columns)))
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows),
                                squeeze=False)
    for extra in axes.flat[n_panels:]:
        extra.set_visible(False)
    return figure, axes.flat


def plot_feature_scatter(correlations_path: str, gains_path: str, pair_features_path: str,
                         out_png: str, top: int = SCATTER_FEATURES,
                         alpha: float = Q_THRESHOLD) -> None:
    """Mean gain of each ordered pair against each of the `top` features most correlated with it
    (the title gives the level the feature was tested at, its n and q; * q < `alpha`)."""
    strongest = top_correlations(read_table(correlations_path), top, alpha)
    table = pair_table(read_table(gains_path), read_table(pair_features_path))
    figure, panels = _grid(max(len(strongest), 1), min(max(len(strongest), 1), 2), size=3.8)
    if strongest.empty:
        note(panels[0], "no feature has a defined correlation")
    for axes, row in zip(panels, strongest.itertuples()):
        sns.regplot(data=table, x=row.feature, y="gain", ax=axes, ci=None,
                    scatter_kws={"s": 18}, line_kws={"color": "tab:red", "linewidth": 1})
        axes.axhline(0.0, color="black", linewidth=0.6)
        star = " *" if row.q_value < alpha else ""
        level = f" ({row.unit}, n = {row.n})" if isinstance(getattr(row, "unit", None), str) else ""
        axes.set_title(f"{row.feature}\nr = {row.pearson_r:.2f}{level}, q = {row.q_value:.2g}"
                       f"{star}", fontsize=9)
        axes.set_ylabel("mean gain of the pair")
    figure.suptitle("Strongest pair features against the MTL gain (one point per ordered pair)")
    figure.tight_layout()
    save_figure(figure, out_png)


def plot_learning_curves(curves_path: str, out_png: str) -> None:
    """Training loss of each task's single-task model (mean over folds and seeds) and its log fit."""
    curves = read_table(curves_path)
    tasks = sorted(curves["task"].unique())
    figure, panels = _grid(max(len(tasks), 1), min(max(len(tasks), 1), 3))
    if not tasks:
        note(panels[0], "no learning curve")
    for axes, task in zip(panels, tasks):
        curve = mean_curve(curves[curves["task"] == task])
        axes.plot(curve.index, curve.to_numpy(), color="tab:blue", label="mean loss")
        fit = fit_log_curve(curve)
        if np.isfinite(fit["curve_fit_a"]):
            _plot_fit(axes, curve, fit)
        axes.set_title(task, fontsize=9)
        axes.set_xlabel("optimisation step")
        axes.set_ylabel("training loss")
        axes.legend(fontsize=7)
    figure.suptitle("Learning curves of the single-task models")
    figure.tight_layout()
    save_figure(figure, out_png)


def _plot_fit(axes: plt.Axes, curve: pd.Series, fit: dict[str, float]) -> None:
    """The fitted a*ln(c*i + 1) + b, with b by least squares given a and c."""
    steps = curve.index.to_numpy(dtype=float)
    shape = log_curve(steps, fit["curve_fit_a"], 0.0, fit["curve_fit_c"])
    offset = float(np.mean(curve.to_numpy() - shape))
    axes.plot(steps, shape + offset, "--", color="tab:orange",
              label=f"a={fit['curve_fit_a']:.2g}, c={fit['curve_fit_c']:.2g}")


PROTOCOL_TITLES = {
    "calibrated": "protocol: calibrated (leave-task-out CV, task-relabelling permutation test)",
    "bingel_sogaard": "protocol: bingel_sogaard (published: 100 x shuffled 5-fold CV, "
                      "min-max scaled on all pairs)",
}
METRIC_LABELS = {"balanced_accuracy": "balanced accuracy", "r_squared": "out-of-fold R²",
                 "f1_gain": "F1 of the gain class", "accuracy": "accuracy"}


def plot_prediction(prediction_path: str, out_png: str) -> None:
    """Scores of the pair predictor against its baseline, one panel per target and metric; the
    protocol that produced them is in the title."""
    scores = read_table(prediction_path)
    protocols = sorted(scores["protocol"].dropna().unique()) if "protocol" in scores else []
    panels = scores[["target", "metric"]].drop_duplicates().to_records(index=False).tolist()
    figure, axes = _grid(max(len(panels), 1), max(len(panels), 1), size=3.8)
    for panel, (target, metric) in zip(axes, panels):
        table = scores[(scores["target"] == target) & (scores["metric"] == metric)]
        label = f"{target}: {METRIC_LABELS.get(metric, metric)}"
        if table["value"].isna().all():
            note(panel, "prediction not possible\n(see prediction.csv)")
            panel.set_title(label)
            continue
        colours = sns.color_palette(n_colors=len(table))
        spread = table["std"].to_numpy() if table["std"].notna().any() else None
        panel.bar(table["model"], table["value"], color=colours, yerr=spread, capsize=3)
        p_values = table["p_value"].dropna()
        if not p_values.empty:
            label += f"\npermutation p = {p_values.iloc[0]:.3g}"
        panel.axhline(0.5 if metric == "balanced_accuracy" else 0, color="grey", lw=0.8, ls="--")
        panel.set_title(label, fontsize=9)
        panel.set_ylabel("score (pooled out-of-fold)" if table["std"].isna().all()
                         else "score (mean ± sd over repetitions)")
        panel.tick_params(axis="x", labelsize=8)
    if not panels:
        note(axes[0], "no prediction scores")
    title = "; ".join(PROTOCOL_TITLES.get(p, f"protocol: {p}") for p in protocols)
    figure.suptitle(f"Predicting which pairs gain\n{title}", fontsize=10)
    figure.tight_layout()
    save_figure(figure, out_png)


def plot_gain_categories(pair_gains_path: str, factors_path: str, out_png: str) -> None:
    """Mean gain of every ordered pair by category: dataset, domain and auxiliary task."""
    pair_gains = read_table(pair_gains_path)
    categories = pair_categories(pair_gains[["main", "aux"]], read_table(factors_path)).merge(
        pair_gains[["main", "aux", "mean_gain"]], on=["main", "aux"])
    per_main = main_task_means(categories)
    groupings = [g for g in ("dataset", "domain", "aux") if (categories["grouping"] == g).any()]
    figure, panels = _grid(max(len(groupings), 1), max(len(groupings), 1), size=3.8)
    if not groupings:
        note(panels[0], "no pair category")
    for axes, grouping in zip(panels, groupings):
        data = categories[categories["grouping"] == grouping]
        mains = per_main[per_main["grouping"] == grouping]
        order = list(dict.fromkeys(data["category"]))
        sns.stripplot(data=data, x="mean_gain", y="category", ax=axes, color="0.4", size=4,
                      order=order)
        sns.pointplot(data=mains, x="mean_gain", y="category", ax=axes, color="tab:red",
                      linestyle="none", errorbar=("ci", 95), markers="D", order=order)
        axes.axvline(0.0, color="black", linewidth=0.6)
        axes.set_title(f"by {'auxiliary task' if grouping == 'aux' else grouping}")
        axes.set_xlabel("mean gain of the pair")
        axes.set_ylabel("")
    figure.suptitle("MTL gain by pair category (points: pairs; diamonds: mean over main tasks "
                    "with 95 % CI, the main task as unit)")
    figure.tight_layout()
    save_figure(figure, out_png)


def largest_class_changes(class_gains: pd.DataFrame, top: int = CLASS_CHANGES) -> pd.DataFrame:
    """The `top` (main, aux, class) rows with the largest |gain|, with a readable label."""
    defined = class_gains.dropna(subset=["gain"])
    order = defined["gain"].abs().sort_values(ascending=False, kind="stable").index[:top]
    rows = defined.loc[order]
    label = rows["main"] + " + " + rows["aux"] + ": " + rows["class"].astype(str)
    return rows.assign(label=label.to_numpy(), direction=np.where(rows["gain"] > 0, "helped",
                                                                  "hurt"))


def plot_class_gains(class_gains_path: str, out_png: str, top: int = CLASS_CHANGES) -> None:
    """The largest changes of a main-task class's F1 brought by an auxiliary task."""
    table = largest_class_changes(read_table(class_gains_path), top)
    figure, axes = plt.subplots(figsize=(8, 1.5 + 0.3 * max(len(table), 1)))
    if table.empty:
        note(axes, "no per-class scores")
    else:
        sns.barplot(data=table, x="gain", y="label", hue="direction", dodge=False, ax=axes,
                    palette={"helped": "tab:blue", "hurt": "tab:red"}, orient="h")
        axes.axvline(0.0, color="black", linewidth=0.8)
    axes.set_title(f"Largest per-class F1 changes of the main task (top {top} by |change|)\n"
                   "label: main + auxiliary task: class of the main task")
    axes.set_xlabel("F1 of the class: pair model minus single model (mean over folds, seeds)")
    axes.set_ylabel("")
    save_figure(figure, out_png)


def plot_layer_variances(layer_variances_path: str, out_png: str) -> None:
    """One panel per shared layer (forward order): the mean log2(pair / single) of the main task's
    output variance, main tasks as rows and auxiliary tasks as columns (the gain heatmap's layout).
    Descriptive, like the table: no test."""
    table = read_table(layer_variances_path).astype({"layer": str})
    layers = list(dict.fromkeys(table["layer"]))
    if not layers:
        figure, axes = plt.subplots(figsize=(5, 3))
        note(axes, "no pair model with a single-task model to compare")
        save_figure(figure, out_png)
        return
    matrices = [gain_matrix(table[table["layer"] == layer], "mean_log2_ratio") for layer in layers]
    values = np.concatenate([matrix.to_numpy().ravel() for matrix in matrices])
    limit = max(float(np.nanmax(np.abs(values))), 1e-9) if np.isfinite(values).any() else 1.0
    rows, columns = matrices[0].shape
    figure, panels = plt.subplots(len(layers), 1, squeeze=False, sharex=True,
                                  figsize=(3.5 + 0.7 * columns, (1.0 + 0.7 * rows) * len(layers) + 2.5))
    for number, (axes, layer, matrix) in enumerate(zip(panels.flat, layers, matrices), start=1):
        sns.heatmap(matrix, ax=axes, cmap="PuOr_r", center=0.0, vmin=-limit, vmax=limit,
                    annot=True, fmt=".2f", linewidths=0.5, cbar=False)
        axes.set_title(f"shared layer {number} (module {layer})")
        axes.set_ylabel("main task")
        axes.set_xlabel("auxiliary task" if number == len(layers) else "")
    figure.colorbar(panels[0, 0].collections[0], ax=panels.ravel().tolist(), shrink=0.6,
                    label="mean log2(pair / single)")
    figure.suptitle("Main task's output variance per shared layer, pair model against single-task "
                    "model\n(mean over folds and seeds of log2(pair / single); below 0: narrower in "
                    "the pair model; descriptive, no test)")
    save_figure(figure, out_png)
