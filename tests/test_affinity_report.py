"""The affinity figure (analysis.report.affinity_figures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.report.affinity_figures import plot_affinity_vs_gain


def test_figure_has_a_point_per_ordered_pair_and_marks_controls(tmp_path: Path) -> None:
    pairs = pd.DataFrame({
        "main": ["a", "b", "a"], "aux": ["b", "a", "a_control"], "lookahead": [0.01, -0.02, 0.0],
        "cosine": [0.3, -0.1, 0.0], "mean_gain": [0.02, -0.01, 0.0], "ci_low": [0.0, -0.03, -0.01],
        "ci_high": [0.04, 0.01, 0.01], "verdict": ["gain", "loss", "no significant change"],
        "control": [False, False, True]})
    summary = pd.DataFrame({"predictor": ["affinity_lookahead"], "spearman_rho": [1.0],
                            "spearman_ci_low": [np.nan], "spearman_ci_high": [np.nan],
                            "spearman_p": [np.nan]})
    pairs.to_csv(tmp_path / "pairs.csv", index=False)
    summary.to_csv(tmp_path / "summary.csv", index=False)
    plot_affinity_vs_gain(str(tmp_path / "pairs.csv"), str(tmp_path / "summary.csv"),
                          str(tmp_path / "figure.png"))
    assert (tmp_path / "figure.png").stat().st_size > 1000

