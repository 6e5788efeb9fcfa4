"""Report figures of gains and correlations: one function, one figure, from one long-form table."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from analysis.io import atomic_path, read_table
from analysis.mtl.controls import is_control

logger = logging.getLogger(__name__)

TOP_FEATURES = 25
Q_THRESHOLD = 0.05  # default only: the workflow passes `analysis.alpha`


def save_figure(figure: plt.Figure, out_png: str) -> None:
    """Write `figure` as PNG atomically and release it."""
    with atomic_path(out_png) as tmp:
        figure.savefig(tmp, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)


def note(axes: plt.Axes, text: str) -> None:
    """A centred message in place of a plot that has nothing to show."""
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def gain_matrix(pair_gains: pd.DataFrame, value: str = "mean_gain") -> pd.DataFrame:
    """`value` of each ordered pair, main tasks as rows and auxiliary tasks as columns. A control
    task (`controls: true`) is only ever an auxiliary task, so it has a column and no row."""
    tasks = sorted(set(pair_gains["main"]).union(pair_gains["aux"]))
    mains = [task for task in tasks if not is_control(task)]
    matrix = pair_gains.pivot_table(index="main", columns="aux", values=value, aggfunc="mean")
    return matrix.reindex(index=mains, columns=tasks).astype(float)


def heatmap_labels(means: pd.DataFrame, q_values: pd.DataFrame, alpha: float,
                   folds: pd.DataFrame | None = None) -> np.ndarray:
    """Cell texts: the mean gain, with * when its q-value is below alpha; a cell with a single
    fold reads `n = 1` (not tested) under its mean."""
    labels = np.full(means.shape, "", dtype=object)
    for (i, j), mean in np.ndenumerate(means.to_numpy()):
        if not np.isfinite(mean):
            continue
        if folds is not None and folds.iat[i, j] < 2:
            labels[i, j] = f"{mean:.3f}\nn = {int(folds.iat[i, j])}"
            continue
        star = "*" if q_values.iat[i, j] < alpha else ""
        labels[i, j] = f"{mean:.3f}{star}"
    return labels


def _mark_cells(axes: plt.Axes, means: pd.DataFrame, q_values: pd.DataFrame, folds: pd.DataFrame,
                alpha: float) -> None:
    """Hatch tested pairs that are not significant; outline untested pairs (n < 2) in dots."""
    for (i, j), mean in np.ndenumerate(means.to_numpy()):
        if not np.isfinite(mean):
            continue
        if folds.iat[i, j] < 2:
            axes.add_patch(Rectangle((j + 0.04, i + 0.04), 0.92, 0.92, fill=False,
                                     linestyle=":", edgecolor="0.2", linewidth=1.5))
        elif not q_values.iat[i, j] < alpha:
            axes.add_patch(Rectangle((j, i), 1, 1, fill=False, hatch="///", edgecolor="0.55",
                                     linewidth=0))


def fold_counts_text(folds: pd.DataFrame) -> str:
    """`n = 5 folds per pair`, or the range when pairs differ."""
    values = folds.stack().dropna().astype(int)
    if values.empty:
        return "no pair"
    low, high = values.min(), values.max()
    return f"n = {low} fold{'s' if low > 1 else ''} per pair" if low == high else \
        f"n = {low} to {high} folds per pair"


def plot_gain_heatmap(pair_gains_path: str, out_png: str, metric: str | None = None,
                      alpha: float = Q_THRESHOLD) -> None:
    """Heatmap of the mean MTL gain of each main task (rows) with each auxiliary task (columns).

    Colours diverge around zero; cells with a Benjamini-Hochberg q-value below `alpha` carry a *,
    other tested cells are hatched, cells with one fold (not tested) are outlined in dots and read
    `n = 1`. The title gives the number of folds, the unit of inference. `metric` names the gain
    metric in the title.
    """
    pair_gains = read_table(pair_gains_path)
    means, q_values = gain_matrix(pair_gains), gain_matrix(pair_gains, "q_value")
    folds = gain_matrix(pair_gains, "n")
    limit = max(float(np.nanmax(np.abs(means.to_numpy()))), 1e-9) if means.notna().any().any() \
        else 1.0
    width, height = 3.5 + 0.8 * len(means.columns), 2.5 + 0.8 * len(means)  # cells of 0.8 inch
    figure, axes = plt.subplots(figsize=(width, height))
    sns.heatmap(means, ax=axes, cmap="RdBu", center=0.0, vmin=-limit, vmax=limit,
                annot=heatmap_labels(means, q_values, alpha, folds), fmt="", square=True,
                linewidths=0.5, cbar_kws={"label": f"mean gain ({metric or 'score'})"})
    _mark_cells(axes, means, q_values, folds, alpha)
    untested = ", dotted: not tested (n = 1)" if (folds < 2).any().any() else ""
    axes.set_title(f"MTL gain of the main task: pair-model minus single-model {metric or 'score'}"
                   f"\n(mean over folds and seeds, {fold_counts_text(folds)}; corrected resampled "
                   f"t-test over folds)\n* q < {alpha}, hatched: not significant{untested}")
    axes.set_xlabel("auxiliary task")
    axes.set_ylabel("main task")
    save_figure(figure, out_png)


def top_correlations(correlations: pd.DataFrame, top: int = TOP_FEATURES,
                     alpha: float = Q_THRESHOLD) -> pd.DataFrame:
    """The `top` features with the largest |pearson_r| (NaN rows left out), strongest first."""
    defined = correlations.dropna(subset=["pearson_r"])
    order = defined["pearson_r"].abs().sort_values(ascending=False, kind="stable").index
    top_rows = defined.loc[order[:top]]
    significant = top_rows["q_value"].lt(alpha)
    return top_rows.assign(significance=significant.map({True: f"q < {alpha}",
                                                         False: f"q >= {alpha}"}))


def plot_correlations(correlations_path: str, out_png: str, alpha: float = Q_THRESHOLD) -> None:
    """Pearson r of each pair feature with the gain at the feature's level and its 95 % CI."""
    table = top_correlations(read_table(correlations_path), alpha=alpha).reset_index(drop=True)
    figure, axes = plt.subplots(figsize=(8, 1.5 + 0.3 * max(len(table), 1)))
    if table.empty:
        note(axes, "no feature has a defined correlation")
    else:
        _correlation_points(axes, table, alpha)
    axes.set_xlim(-1.05, 1.05)
    axes.set_title("Association of pair features with the MTL gain\n"
                   f"(top {TOP_FEATURES} by |r|; main_/aux_ features: r over tasks with its 95 % "
                   f"CI;\npair features: r over ordered pairs, permutation p; * q < {alpha}, "
                   "Benjamini-Hochberg)")
    axes.set_xlabel("Pearson r with the mean gain (of the task, or of the pair)")
    axes.set_ylabel("pair feature [level, n]")
    save_figure(figure, out_png)


def feature_label(row: pd.Series) -> str:
    """`feature [main task, n = 7]`: the level the feature was tested at and its points."""
    unit = row.get("unit")
    return f"{row['feature']} [{unit}, n = {row['n']}]" if isinstance(unit, str) else \
        str(row["feature"])


def _correlation_points(axes: plt.Axes, table: pd.DataFrame, alpha: float) -> None:
    colours = {f"q < {alpha}": "tab:red", f"q >= {alpha}": "tab:gray"}
    positions = np.arange(len(table))
    for label, colour in colours.items():
        rows = table["significance"] == label
        if not rows.any():
            continue
        low = (table["pearson_r"] - table["pearson_ci_low"]).fillna(0)[rows]
        high = (table["pearson_ci_high"] - table["pearson_r"]).fillna(0)[rows]
        axes.errorbar(table["pearson_r"][rows], positions[rows], xerr=[low, high], fmt="o",
                      color=colour, capsize=3, label=label)
    for position, (_r, q, high) in enumerate(zip(table["pearson_r"], table["q_value"],
                                                table["pearson_ci_high"].fillna(table["pearson_r"]))):
        if q < alpha:
            axes.text(min(high + 0.03, 1.0), position, "*", va="center", fontsize=12)
    axes.set_yticks(positions, [feature_label(row) for _, row in table.iterrows()])
    axes.invert_yaxis()
    axes.axvline(0.0, color="black", linewidth=0.8)
    axes.legend(title="Benjamini-Hochberg", loc="upper left", bbox_to_anchor=(1.01, 1.0))
