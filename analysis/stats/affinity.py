"""Task affinity per ordered pair, summarised over the all-task model's folds and seeds.

The probe (`analysis.mtl.affinity`) writes one row per probed step and ordered pair. A run
(fold, seed) gives one value per pair: the mean over its probes ("averaged over training", as TAG
does). Seeds of a fold are averaged, and the interval is over the folds, with the corrected
resampled t (Nadeau & Bengio 2003, as `pair_gains.csv`): the unit of inference is the fold
replicate of one ordered pair; the folds share training data (hence the correction) and are shared
by every pair (so intervals of two pairs are not independent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io import write_table

MEASURES = ("lookahead", "cosine")
PAIR = ["main", "aux"]
AFFINITY_COLUMNS = [
    *PAIR, "unit", "n", "n_folds", "n_seeds", "n_probes",
    *(f"{m}{suffix}" for m in MEASURES for suffix in ("", "_ci_low", "_ci_high")),
]
UNIT = "fold (seeds averaged)"


def run_means(probes: pd.DataFrame) -> pd.DataFrame:
    """main, aux, fold, seed, lookahead, cosine, n_probes: each run's mean over its probes."""
    return probes.groupby([*PAIR, "fold", "seed"], as_index=False).agg(
        lookahead=("lookahead", "mean"), cosine=("cosine", "mean"), n_probes=("step", "size"))


def corrected_interval(values: np.ndarray, ratio: float, level: float = 0.95) -> tuple[float, float]:
    """Corrected resampled t interval of the mean of fold replicates: variance (1/n + ratio) s²,
    n - 1 degrees of freedom; NaN with fewer than 2 replicates."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    se = np.sqrt((1.0 / n + ratio) * np.var(values, ddof=1))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se
    return float(values.mean() - half), float(values.mean() + half)


def summarise_affinity(probes: pd.DataFrame, test_train_ratio: float | None = None) -> pd.DataFrame:
    """One row per ordered pair (AFFINITY_COLUMNS); `test_train_ratio` (n_test / n_train of a
    fold) defaults to 1 / (k - 1) for k folds."""
    runs = run_means(probes)
    folds = runs.groupby([*PAIR, "fold"], as_index=False).agg(
        lookahead=("lookahead", "mean"), cosine=("cosine", "mean"),
        n_seeds=("seed", "nunique"), n_probes=("n_probes", "sum"))
    k = runs["fold"].nunique()
    ratio = test_train_ratio if test_train_ratio is not None else 1.0 / max(k - 1, 1)
    rows = []
    for (main, aux), pair in folds.groupby(PAIR, sort=True):
        row = {"main": main, "aux": aux, "unit": UNIT, "n": len(pair), "n_folds": len(pair),
               "n_seeds": int(pair["n_seeds"].max()), "n_probes": int(pair["n_probes"].sum())}
        for measure in MEASURES:
            low, high = corrected_interval(pair[measure].to_numpy(), ratio)
            if measure == "cosine":  # a cosine lies in [-1, 1]
                low, high = max(low, -1.0), min(high, 1.0)
            row |= {measure: float(pair[measure].mean()),
                    f"{measure}_ci_low": low, f"{measure}_ci_high": high}
        rows.append(row)
    return pd.DataFrame(rows, columns=AFFINITY_COLUMNS)


def write_affinity(probe_path: str, out_csv: str) -> None:
    """Write `affinity.csv` from the all-task model's `probe.parquet`."""
    write_table(summarise_affinity(pd.read_parquet(probe_path)), out_csv)
