"""Report figures of gains and correlations: one function, one figure, from one long-form table."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from analysis.io import atomic_path, read_table  # noqa: E402

logger = logging.getLogger(__name__)

TOP_FEATURES = 25
Q_THRESHOLD = 0.05


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
    """`value` of each ordered pair, main tasks as rows and auxiliary tasks as columns."""
    tasks = sorted(set(pair_gains["main"]).union(pair_gains["aux"]))
    matrix = pair_gains.pivot_table(index="main", columns="aux", values=value, aggfunc="mean")
    return matrix.reindex(index=tasks, columns=tasks).astype(float)


def heatmap_labels(means: pd.DataFrame, q_values: pd.DataFrame, alpha: float) -> np.ndarray:
    """Cell texts: the mean gain, with * when its q-value is below alpha."""
    labels = np.full(means.shape, "", dtype=object)
    for (i, j), mean in np.ndenumerate(means.to_numpy()):
        if np.isfinite(mean):
            star = "*" if q_values.iat[i, j] < alpha else ""
            labels[i, j] = f"{mean:.3f}{star}"
    return labels


def _hatch_not_significant(axes: plt.Axes, means: pd.DataFrame, q_values: pd.DataFrame,
                           alpha: float) -> None:
    for (i, j), mean in np.ndenumerate(means.to_numpy()):
        q = q_values.iat[i, j]
        if np.isfinite(mean) and not q < alpha:
            axes.add_patch(Rectangle((j, i), 1, 1, fill=False, hatch="///", edgecolor="0.55",
                                     linewidth=0))


def plot_gain_heatmap(pair_gains_path: str, out_png: str, metric: str | None = None,
                      alpha: float = Q_THRESHOLD) -> None:
    """Heatmap of the mean MTL gain of each main task (rows) with each auxiliary task (columns).

    Colours diverge around zero; cells with a Benjamini-Hochberg q-value below `alpha` carry a *,
    the others are hatched. `metric` names the gain metric in the title.
    """
    pair_gains = read_table(pair_gains_path)
    means, q_values = gain_matrix(pair_gains), gain_matrix(pair_gains, "q_value")
    limit = max(float(np.nanmax(np.abs(means.to_numpy()))), 1e-9) if means.notna().any().any() \
        else 1.0
    size = 1.2 + 0.8 * len(means)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    sns.heatmap(means, ax=axes, cmap="RdBu", center=0.0, vmin=-limit, vmax=limit,
                annot=heatmap_labels(means, q_values, alpha), fmt="", square=True, linewidths=0.5,
                cbar_kws={"label": f"mean gain ({metric or 'score'})"})
    _hatch_not_significant(axes, means, q_values, alpha)
    axes.set_title(f"MTL gain of the main task: pair-model minus single-model {metric or 'score'}"
                   f"\n(mean over folds and seeds; * q < {alpha}, hatched: not significant)")
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
    """Pearson r of each pair feature with the mean gain and its Fisher-z 95 % CI (top by |r|)."""
    table = top_correlations(read_table(correlations_path)).reset_index(drop=True)
    figure, axes = plt.subplots(figsize=(8, 1.5 + 0.3 * max(len(table), 1)))
    if table.empty:
        note(axes, "no feature has a defined correlation")
    else:
        _correlation_points(axes, table)
    axes.set_xlim(-1.05, 1.05)
    axes.set_title("Correlation of pair features with the mean MTL gain\n"
                   f"(top {TOP_FEATURES} by |r|, Fisher-z 95 % CI; * q < {Q_THRESHOLD}, "
                   "Benjamini-Hochberg)")
    axes.set_xlabel("Pearson r with the mean gain")
    axes.set_ylabel("pair feature")
    save_figure(figure, out_png)


def _correlation_points(axes: plt.Axes, table: pd.DataFrame) -> None:
    colours = {f"q < {Q_THRESHOLD}": "tab:red", f"q >= {Q_THRESHOLD}": "tab:gray"}
    positions = np.arange(len(table))
    for label, colour in colours.items():
        rows = table["significance"] == label
        if not rows.any():
            continue
        low = (table["pearson_r"] - table["pearson_ci_low"]).fillna(0)[rows]
        high = (table["pearson_ci_high"] - table["pearson_r"]).fillna(0)[rows]
        axes.errorbar(table["pearson_r"][rows], positions[rows], xerr=[low, high], fmt="o",
                      color=colour, capsize=3, label=label)
    for position, (r, q, high) in enumerate(zip(table["pearson_r"], table["q_value"],
                                                table["pearson_ci_high"].fillna(table["pearson_r"]))):
        if q < Q_THRESHOLD:
            axes.text(min(high + 0.03, 1.0), position, "*", va="center", fontsize=12)
    axes.set_yticks(positions, table["feature"])
    axes.invert_yaxis()
    axes.axvline(0.0, color="black", linewidth=0.8)
    axes.legend(title="Benjamini-Hochberg", loc="upper left", bbox_to_anchor=(1.01, 1.0))
