"""Report figures of budgeted studies and task groups."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from analysis.report.figures import note, save_figure


def group_gain_figure(group_gains_csv: str, out_png: str) -> None:
    """Measured gain of each task in its group (with its interval) against the gain its pairs
    predicted, one point per task, coloured by group."""
    table = pd.read_csv(group_gains_csv)
    figure, axes = plt.subplots(figsize=(6, 5))
    trained = table[table["size"] > 1].dropna(subset=["mean_gain"])
    for group, rows in trained.groupby("group"):
        error = [rows["mean_gain"] - rows["ci_low"], rows["ci_high"] - rows["mean_gain"]]
        axes.errorbar(rows["predicted"], rows["mean_gain"], yerr=error, fmt="o", capsize=3, label=group)
        for row in rows.itertuples():
            axes.annotate(row.task, (row.predicted, row.mean_gain), fontsize=7, xytext=(3, 3),
                          textcoords="offset points")
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xlabel(f"predicted from pairs ({table['source'].iloc[0] if len(table) else ''})")
    axes.set_ylabel("measured gain in the group")
    if trained.empty:
        note(axes, "no group of two or more tasks")
    else:
        axes.legend(fontsize=7, title="group")
    save_figure(figure, out_png)


def cost_figure(cost_csv: str, out_png: str) -> None:
    """CPU seconds of each path of the study (all pairs, budgeted pairs, groups, affinity)."""
    table = pd.read_csv(cost_csv)
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.barh(table["path"], table["cpu_seconds"])
    axes.set_xlabel("CPU seconds (Snakemake benchmark files)")
    save_figure(figure, out_png)
