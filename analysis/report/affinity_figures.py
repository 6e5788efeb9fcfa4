"""The affinity figure: affinity against measured gain, one point per ordered pair."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from analysis.report.figures import note, save_figure

MEASURES = {"lookahead": ("affinity_lookahead", "lookahead affinity Z (TAG)"),
            "cosine": ("affinity_cosine", "gradient cosine")}


def _panel(axes: plt.Axes, scored: pd.DataFrame, measure: str, summary: pd.DataFrame) -> None:
    predictor, label = MEASURES[measure]
    for control, style in ((False, {"color": "C0", "label": "task pair"}),
                           (True, {"color": "0.6", "marker": "x", "label": "with a control task"})):
        points = scored[scored["control"] == control]
        if points.empty:
            continue
        errors = [points["mean_gain"] - points["ci_low"], points["ci_high"] - points["mean_gain"]]
        axes.errorbar(points[measure], points["mean_gain"], yerr=errors, fmt=style.pop("marker", "o"),
                      alpha=0.8, elinewidth=0.6, **style)
    axes.axhline(0.0, color="0.3", linewidth=0.6)
    axes.set_xlabel(label)
    axes.set_ylabel("measured gain (95 % CI)")
    row = summary[summary["predictor"] == predictor]
    if not row.empty and pd.notna(row["spearman_rho"].iloc[0]):
        r = row.iloc[0]
        tested = f"p = {r['spearman_p']:.3g}" if pd.notna(r["spearman_p"]) else "not tested (pairs chosen)"
        axes.set_title(f"Spearman {r['spearman_rho']:.2f} [{r['spearman_ci_low']:.2f}, "
                       f"{r['spearman_ci_high']:.2f}], {tested}", fontsize=9)


def plot_affinity_vs_gain(scored_csv: str, summary_csv: str, out_png: str) -> None:
    """Two panels (lookahead, cosine) of affinity against the measured mean gain of every ordered
    pair, control pairs in grey; the title gives the Spearman figures of the non-control pairs."""
    scored, summary = pd.read_csv(scored_csv), pd.read_csv(summary_csv)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
    for panel, measure in zip(axes[0], MEASURES):
        if scored.empty:
            note(panel, "no ordered pair has both an affinity and a measured gain")
        else:
            _panel(panel, scored, measure, summary)
    axes[0, 0].legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, out_png)
