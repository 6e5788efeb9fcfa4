"""The affinity figure and the cost table (analysis.report.affinity_figures, stats.affinity_cost)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report.affinity_figures import plot_affinity_vs_gain
from analysis.stats.affinity_cost import PAIRS, cost_table


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


def test_cost_table_sums_benchmark_files_and_compares_with_the_pairs(tmp_path: Path) -> None:
    def benchmark(name: str, cpu: float) -> str:
        path = tmp_path / f"{name}.tsv"
        path.write_text(f"s\th:m:s\tcpu_time\n{2 * cpu}\t0:00:01\t{cpu}\n")
        return str(path)

    table = cost_table(
        {PAIRS: [benchmark("p1", 10.0), benchmark("p2", 30.0)],
         "affinity model": [benchmark("all", 4.0)]},
        {"probe_cpu_s": 0.5}).set_index("path")
    assert table.loc[PAIRS, "jobs"] == 2 and table.loc[PAIRS, "cpu_s"] == 40.0
    assert table.loc["affinity model", "share_of_pairs"] == pytest.approx(0.1)
    assert table["share_of_pairs"].iloc[-1] == pytest.approx(0.5 / 40.0)
