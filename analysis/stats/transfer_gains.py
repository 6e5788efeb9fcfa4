"""Transfer gains: the target task's score after transfer from a source task minus its single-task
score, tested, correlated and set beside the MTL gains exactly as those are.

A transfer setting is a `method` (`swr`, `finetune`, `head_only`) and a `cost` (SWR's c; NaN for
the two references). Each setting is its own family: its gains go through `pair_gain_table` (the
corrected resampled t-test over folds, Benjamini-Hochberg over its ordered pairs) and
`correlations_table`, with `main` the target and `aux` the source.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.mtl.transfer_job import CHANGED_SHARE, TRANSFER_COLUMNS
from analysis.stats.correlations import correlations_table
from analysis.stats.gain_tests import pair_gain_table
from analysis.stats.gains import metric_runs, safe_ratio

logger = logging.getLogger(__name__)

SETTING = ["method", "cost"]
KEYS = ["main", "aux", "fold", "seed"]
TRANSFER_GAIN_COLUMNS = [*SETTING, *KEYS, "single", "transfer", "gain", "relative_gain",
                         CHANGED_SHARE]


def collect_transfer_runs(paths: list[str], out: str) -> None:
    """Every transfer model's metrics in one table (source, task, method, cost, fold, seed, ...)."""
    tables = [read_table(path) for path in paths]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=list(TRANSFER_COLUMNS))
    write_table(table.astype(TRANSFER_COLUMNS), out)


def transfer_gains_table(transfer_runs: pd.DataFrame, runs: pd.DataFrame,
                         metric: str) -> pd.DataFrame:
    """One row per setting, ordered (target, source) pair, fold and seed: single, transfer, gain."""
    singles = metric_runs(runs, metric)
    singles = singles[singles["partner"] == ""][["task", "fold", "seed", "value"]]
    scored = metric_runs(transfer_runs, metric, "transfer runs")
    share = transfer_runs[transfer_runs["metric"] == CHANGED_SHARE]
    keys = ["source", "task", *SETTING, "fold", "seed"]
    table = (scored[keys + ["value"]].rename(columns={"value": "transfer"})
             .merge(share[keys + ["value"]].rename(columns={"value": CHANGED_SHARE}),
                    on=keys, how="left", validate="one_to_one")
             .merge(singles.rename(columns={"value": "single"}), on=["task", "fold", "seed"],
                    how="inner", validate="many_to_one"))
    table = table.rename(columns={"task": "main", "source": "aux"})
    table["gain"] = table["transfer"] - table["single"]
    table["relative_gain"] = safe_ratio(table["gain"], table["single"]).to_numpy()
    return table[TRANSFER_GAIN_COLUMNS].sort_values([*SETTING, *KEYS]).reset_index(drop=True)


def settings_of(table: pd.DataFrame):
    """(method, cost, rows) of every transfer setting; a reference's cost is NaN."""
    for (method, cost), rows in table.groupby(SETTING, dropna=False, sort=True):
        yield method, cost, rows


def transfer_gain_tests(gains: pd.DataFrame, fold_sizes: pd.DataFrame | None,
                        alpha: float = 0.05) -> pd.DataFrame:
    """Per setting and ordered pair: `pair_gain_table`'s columns (mean_pair: the mean transfer
    score) and the mean share of parameters changed."""
    tables = []
    for method, cost, rows in settings_of(gains):
        tested = pair_gain_table(rows.rename(columns={"transfer": "pair"}), alpha, fold_sizes)
        share = rows.groupby(["main", "aux"], as_index=False)[CHANGED_SHARE].mean()
        tables.append(tested.merge(share, on=["main", "aux"]).assign(method=method, cost=cost))
    table = pd.concat(tables, ignore_index=True)
    return table[[*SETTING, *[c for c in table.columns if c not in SETTING]]].rename(
        columns={"mean_pair": "mean_transfer", CHANGED_SHARE: f"mean_{CHANGED_SHARE}"})


def transfer_correlations(gains: pd.DataFrame, pair_features: pd.DataFrame,
                          permutations: int = 999, seed: int = 0) -> pd.DataFrame:
    """`correlations_table` of the pair features with the transfer gain, per setting."""
    tables = [correlations_table(rows[KEYS + ["gain"]], pair_features, permutations, seed)
              .assign(method=method, cost=cost) for method, cost, rows in settings_of(gains)]
    table = pd.concat(tables, ignore_index=True)
    return table[[*SETTING, *[c for c in table.columns if c not in SETTING]]]


def transfer_vs_mtl(gains: pd.DataFrame, mtl_gains: pd.DataFrame, fold_sizes: pd.DataFrame | None,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Does the source help the target more when trained together or when transferred? Per
    setting and ordered pair, the corrected test of transfer minus pair-model score on the same
    folds and seeds: `mean_gain` > 0 favours transfer. Columns: setting, main, aux, mean MTL gain,
    mean transfer gain, then `pair_gain_table`'s columns of the difference."""
    mtl = mtl_gains[KEYS + ["pair", "gain"]].rename(columns={"gain": "mtl_gain"})
    tables = []
    for method, cost, rows in settings_of(gains):
        both = rows.merge(mtl, on=KEYS, how="inner", validate="one_to_one")
        if both.empty:
            continue
        difference = both.assign(single=both["pair"], pair=both["transfer"],
                                 gain=both["transfer"] - both["pair"])
        tested = pair_gain_table(difference.drop(columns="relative_gain"), alpha, fold_sizes)
        means = both.groupby(["main", "aux"], as_index=False).agg(
            mean_mtl_gain=("mtl_gain", "mean"), mean_transfer_gain=("gain", "mean"))
        tables.append(means.merge(tested, on=["main", "aux"]).assign(method=method, cost=cost))
    if not tables:
        raise StudyInputError("no transfer run shares a fold and seed with a pair model")
    table = pd.concat(tables, ignore_index=True).rename(columns={
        "mean_single": "mean_pair_score", "mean_pair": "mean_transfer_score",
        "mean_gain": "mean_difference"})
    table["favours"] = np.where(table["verdict"] == "gain", "transfer",
                                np.where(table["verdict"] == "loss", "joint training", "neither"))
    return table[[*SETTING, *[c for c in table.columns if c not in SETTING]]]


def write_transfer_gains(transfer_runs: str, runs: str, metric: str, out: str) -> None:
    gains = transfer_gains_table(read_table(transfer_runs), read_table(runs), metric)
    if gains.empty:
        raise StudyInputError(f"{transfer_runs} gives no transfer gains: no run matches a "
                              "single-task run of its target")
    write_table(gains, out)


def _optional(path: str | None) -> pd.DataFrame | None:
    return read_table(path) if path and Path(path).exists() else None


def write_transfer_analysis(gains_path: str, mtl_gains_path: str, pair_features_path: str,
                            fold_sizes_path: str | None, outputs: dict[str, str], alpha: float,
                            permutations: int, seed: int) -> None:
    """Write the transfer gain tests, correlations and the comparison with the MTL gains."""
    gains = read_table(gains_path)
    fold_sizes = _optional(fold_sizes_path)
    write_table(transfer_gain_tests(gains, fold_sizes, alpha), outputs["tests"])
    write_table(transfer_correlations(gains, read_table(pair_features_path), permutations, seed),
                outputs["correlations"])
    write_table(transfer_vs_mtl(gains, read_table(mtl_gains_path), fold_sizes, alpha),
                outputs["versus"])
