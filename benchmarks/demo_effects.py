"""Print the corrected resampled t-test (Nadeau & Bengio 2003) of every ordered pair of a finished
study, from `results/study/gains.parquet` and the fold sizes of its splits.

Seeds are averaged within a fold; d_j is the mean gain of fold j; with J folds,
t = mean(d) / sqrt((1/J + n_test/n_train) * var(d, ddof=1)), df = J - 1, two-sided p, then
Benjamini-Hochberg over the pairs (pairs whose main task is a control are left out). A check of the demo study's effects, not part of the workflow
(the workflow's own test is `analysis.stats.gain_tests`).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/demo_effects.py [STUDY_DIR] [--alpha 0.05]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests


def test_ratio(study: Path) -> float:
    """Mean n_test / n_train over the folds, pooled over the study's datasets."""
    splits = pd.concat([pd.read_parquet(p) for p in sorted((study / "results/splits").glob("*.parquet"))])
    folds = splits["fold"][splits["fold"] >= 0]
    n = len(splits)
    return float(np.mean([(folds == f).sum() / (n - (folds == f).sum()) for f in folds.unique()]))


def corrected_tests(gains: pd.DataFrame, ratio: float) -> pd.DataFrame:
    rows = []
    for (main, aux), table in gains.groupby(["main", "aux"]):
        d = table.groupby("fold")["gain"].mean().to_numpy()
        j = len(d)
        variance = (1 / j + ratio) * np.var(d, ddof=1) if j > 1 else np.nan
        t = d.mean() / np.sqrt(variance) if variance > 0 else np.nan
        p = 2 * stats.t.sf(abs(t), j - 1) if np.isfinite(t) else np.nan
        rows.append({"main": main, "aux": aux, "folds": j, "mean_gain": d.mean(), "t": t, "p": p})
    table = pd.DataFrame(rows)
    tested = table["p"].notna()
    table["q"] = np.nan
    table.loc[tested, "q"] = multipletests(table.loc[tested, "p"], method="fdr_bh")[1]
    return table.sort_values("p").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("study", nargs="?", default=".")
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args()
    study = Path(args.study)
    gains = pd.read_parquet(study / "results/study/gains.parquet")
    gains = gains[~gains["main"].str.endswith("_control")]  # a control's own scores mean nothing
    table = corrected_tests(gains, test_ratio(study))
    table["verdict"] = np.where(table["q"] < args.alpha,
                                np.where(table["mean_gain"] > 0, "gain", "loss"), "-")
    table["control"] = table["aux"].str.endswith("_control")
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    real = table[~table["control"]]
    controls = table[table["control"]]
    print(f"\nreal pairs: {int((real['verdict'] == 'gain').sum())} significant gains, "
          f"{int((real['verdict'] == 'loss').sum())} significant losses of {len(real)}; "
          f"controls (main, main_control): {int((controls['verdict'] == 'gain').sum())} gains, "
          f"{int((controls['verdict'] == 'loss').sum())} losses of {len(controls)}")


if __name__ == "__main__":
    main()
