"""Report figures: one function, one figure, from one long-form table."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis.io import atomic_path, read_table  # noqa: E402

logger = logging.getLogger(__name__)

TOP_FEATURES = 25
Q_THRESHOLD = 0.05


def save_figure(figure: plt.Figure, out_png: str) -> None:
    """Write `figure` as PNG atomically and release it."""
    with atomic_path(out_png) as tmp:
        figure.savefig(tmp, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)


def gain_matrix(gains: pd.DataFrame) -> pd.DataFrame:
    """Mean gain over folds and seeds, main tasks as rows and auxiliary tasks as columns."""
    tasks = sorted(set(gains["main"]).union(gains["aux"]))
    matrix = gains.pivot_table(index="main", columns="aux", values="gain", aggfunc="mean")
    return matrix.reindex(index=tasks, columns=tasks).astype(float)


def plot_gain_heatmap(gains_path: str, out_png: str, metric: str | None = None) -> None:
    """Heatmap of the mean MTL gain of each main task (rows) with each auxiliary task (columns).

    `metric` names the gain metric in the title; the gains table itself does not record it.
    """
    matrix = gain_matrix(read_table(gains_path))
    limit = max(float(matrix.abs().max().max()), 1e-9) if matrix.notna().any().any() else 1.0
    size = 1.2 + 0.7 * len(matrix)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    sns.heatmap(matrix, ax=axes, cmap="RdBu", center=0.0, vmin=-limit, vmax=limit, annot=True,
                fmt=".3f", square=True, linewidths=0.5, cbar_kws={"label": "mean gain"})
    score = metric or "score"
    axes.set_title(f"MTL gain of the main task: pair-model minus single-model {score}\n"
                   "(mean over folds and seeds)")
    axes.set_xlabel("auxiliary task")
    axes.set_ylabel("main task")
    save_figure(figure, out_png)


def top_correlations(correlations: pd.DataFrame, top: int = TOP_FEATURES) -> pd.DataFrame:
    """The `top` features with the largest |pearson_r| (NaN rows left out), strongest first."""
    defined = correlations.dropna(subset=["pearson_r"])
    order = defined["pearson_r"].abs().sort_values(ascending=False, kind="stable").index
    top_rows = defined.loc[order[:top]]
    significant = top_rows["q_value"].lt(Q_THRESHOLD)
    return top_rows.assign(significance=significant.map({True: f"q < {Q_THRESHOLD}",
                                                         False: f"q >= {Q_THRESHOLD}"}))


def plot_correlations(correlations_path: str, out_png: str) -> None:
    """Horizontal bars of the Pearson r of each pair feature with the mean gain (top by |r|)."""
    table = top_correlations(read_table(correlations_path))
    figure, axes = plt.subplots(figsize=(8, 1.5 + 0.3 * max(len(table), 1)))
    if table.empty:
        axes.text(0.5, 0.5, "no feature has a defined correlation", ha="center", va="center",
                  transform=axes.transAxes)
    else:
        palette = {f"q < {Q_THRESHOLD}": "tab:red", f"q >= {Q_THRESHOLD}": "tab:gray"}
        sns.barplot(data=table, x="pearson_r", y="feature", hue="significance", palette=palette,
                    dodge=False, orient="h", ax=axes)
        _mark_significant(axes, table)
        axes.axvline(0.0, color="black", linewidth=0.8)
        axes.legend(title="Benjamini-Hochberg", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_xlim(-1.05, 1.05)
    axes.set_title("Correlation of pair features with the mean MTL gain\n"
                   f"(top {TOP_FEATURES} by |r|; * q < {Q_THRESHOLD}, Benjamini-Hochberg)")
    axes.set_xlabel("Pearson r with the mean gain")
    axes.set_ylabel("pair feature")
    save_figure(figure, out_png)


def _mark_significant(axes: plt.Axes, table: pd.DataFrame) -> None:
    """An asterisk beyond the end of each bar with q below the threshold."""
    for position, (r, q) in enumerate(zip(table["pearson_r"], table["q_value"])):
        if q < Q_THRESHOLD:
            axes.text(r + (0.02 if r >= 0 else -0.02), position, "*", va="center",
                      ha="left" if r >= 0 else "right", fontsize=12)
