"""Report figures are written as non-empty PNGs from small long-form tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from analysis.io import write_table
from analysis.report.figures import (
    gain_matrix,
    plot_correlations,
    plot_gain_heatmap,
    top_correlations,
)

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
    table = pd.DataFrame({"feature": [f"main_f{i}" for i in range(n)], "n": 20,
                          "pearson_r": rng.uniform(-0.9, 0.9, n), "pearson_p": rng.uniform(0, 1, n),
                          "spearman_rho": 0.0, "spearman_p": 0.5,
                          "q_value": rng.uniform(0, 0.2, n)})
    table.loc[table.index.isin([3, 7]), ["pearson_r", "pearson_p", "q_value"]] = np.nan
    return table


def test_gain_matrix_is_task_by_task_with_empty_diagonal() -> None:
    matrix = gain_matrix(small_gains())
    assert list(matrix.index) == list(matrix.columns) == ["esc", "kws", "spk"]
    assert np.isnan(np.diag(matrix.to_numpy())).all()
    expected = small_gains().query("main == 'kws' and aux == 'spk'")["gain"].mean()
    assert matrix.loc["kws", "spk"] == expected


def test_plot_gain_heatmap_writes_png(tmp_path) -> None:
    write_table(small_gains(), tmp_path / "gains.parquet")
    out = tmp_path / "figures" / "gain_heatmap.png"
    plot_gain_heatmap(str(tmp_path / "gains.parquet"), str(out), metric="accuracy")
    assert is_png(out)


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
