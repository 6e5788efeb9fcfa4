"""Report figures of the transfer interactions: transfer gain beside MTL gain, changed share vs c."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.io import read_table
from analysis.report.figures import note, plt, save_figure


def setting_label(method: str, cost: float) -> str:
    return method if cost is None or math.isnan(cost) else f"{method} c={cost:g}"


def plot_transfer_vs_mtl(versus_path: str, out_png: str) -> None:
    """Mean transfer gain against mean MTL gain per ordered pair, one panel per setting."""
    table = read_table(versus_path)
    settings = list(table.groupby(["method", "cost"], dropna=False, sort=True).groups)
    n = max(1, len(settings))
    figure, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.4), squeeze=False, sharex=True,
                                sharey=True)
    if table.empty:
        note(axes[0, 0], "no transfer model")
    values = table[["mean_mtl_gain", "mean_transfer_gain"]].to_numpy(float)
    low, high = (np.nanmin(values), np.nanmax(values)) if values.size else (-1.0, 1.0)
    for ax, (method, cost) in zip(axes[0], settings):
        rows = table[(table["method"] == method)
                     & ((table["cost"] == cost) | (table["cost"].isna() & pd.isna(cost)))]
        significant = rows["favours"] != "neither"
        ax.plot([low, high], [low, high], color="grey", linewidth=0.8)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.scatter(rows["mean_mtl_gain"], rows["mean_transfer_gain"], facecolors=np.where(
            significant, "C0", "none"), edgecolors="C0")
        ax.set_title(setting_label(method, cost))
        ax.set_xlabel("MTL gain")
    axes[0, 0].set_ylabel("transfer gain")
    save_figure(figure, out_png)


def plot_transfer_cost(gains_path: str, out_png: str) -> None:
    """Measured share of changed parameters against the SWR cost c."""
    table = read_table(gains_path)
    swr = table[table["method"] == "swr"]
    figure, axes = plt.subplots(figsize=(4, 4))
    if swr.empty:
        note(axes, "no SWR transfer")
    else:
        sns.stripplot(x=swr["cost"], y=swr["changed_share"], native_scale=True, ax=axes,
                      jitter=0.02, alpha=0.6)
        axes.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
        axes.set_xlim(-0.05, 1.05)
        axes.set_ylim(-0.05, 1.05)
    axes.set_xlabel("target cost c")
    axes.set_ylabel("share of extractor parameters changed")
    save_figure(figure, out_png)
