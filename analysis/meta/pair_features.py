"""Features of an ordered (main, aux) pair from the features of its two tasks.

Every numeric task feature f gives `main_<f>` and `aux_<f>`, and one comparison of the two, by the
study's `analysis.protocol`:

- `calibrated` (default): `main-aux_<f>`, the difference, for a feature that is a logarithm, in dB,
  signed or may be 0 (entropies, kurtosis, SNR, curve gradients and fit amplitude, the single-task
  score, and any feature with a value <= 0 in the study), and `log_main/aux_<f>`, the natural
  logarithm of the ratio, for a strictly positive size or rate (numbers of labels and clips,
  durations, the fitted rate `c`, the imbalance ratio). A ratio of a signed feature changes sign and
  blows up as the auxiliary value nears 0; a plain ratio of sizes spans orders of magnitude and is
  not symmetric (main/aux = 10 and 0.1 are equally far from 1), its logarithm is. The learning-curve features are the smoothed ones (`curve_grad_*`, see
  `analysis.meta.learning_curve`), and the single-task score of each task (`single_score`, its mean
  over folds and seeds) is a feature, since a task near its ceiling has little room to gain.
- `bingel_sogaard`: `main/aux_<f>` ratios of every feature, as in Bingel & Sogaard (2017; code
  jbingel/eacl2017_mtl, cell "Pair tasks"), with their learning-curve definitions (the task
  table's `bs_curve_*` columns, under the names `curve_*`) and no single-task score. A ratio with an
  auxiliary value of 0 is empty (their data had none).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table

logger = logging.getLogger(__name__)

PROTOCOLS = ("calibrated", "bingel_sogaard")
PUBLISHED_PREFIX = "bs_"
# Logarithms, dB values, signed values or values that may be 0, compared by difference.
DIFFERENCE_FEATURES = frozenset({
    "label_entropy", "label_norm_entropy", "label_kurtosis", "snr_db", "curve_fit_a",
    "single_score"})


def is_difference_feature(name: str, values: pd.Series) -> bool:
    return (name in DIFFERENCE_FEATURES or name.endswith("_db") or name.startswith("curve_grad_")
            or bool((values.dropna() <= 0).any()))


def numeric_features(table: pd.DataFrame) -> list[str]:
    """The numeric, non-boolean columns of a task table except `task`, in table order."""
    return [column for column in table.columns
            if column != "task" and pd.api.types.is_numeric_dtype(table[column])
            and not pd.api.types.is_bool_dtype(table[column])]


def ratio(numerator: pd.Series, denominator: pd.Series) -> np.ndarray:
    """`numerator / denominator`, NaN where the denominator is 0 or the result is not finite."""
    numerator, denominator = numerator.to_numpy(dtype=float), denominator.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(denominator != 0, numerator / denominator, np.nan)
    return np.where(np.isfinite(result), result, np.nan)


def single_scores(gains: pd.DataFrame) -> pd.Series:
    """Mean single-task score of each task over its folds and seeds (from the gains rows)."""
    singles = gains.drop_duplicates(["main", "fold", "seed"])
    return singles.groupby("main")["single"].mean().rename("single_score")


def protocol_task_table(task_features: pd.DataFrame, protocol: str,
                        gains: pd.DataFrame | None = None) -> pd.DataFrame:
    """The task features a protocol compares: its learning-curve set, and the single-task score."""
    if protocol not in PROTOCOLS:
        raise StudyInputError(f"config analysis.protocol: {protocol!r} is not one of {PROTOCOLS}")
    published = [c for c in task_features.columns if c.startswith(PUBLISHED_PREFIX)]
    if protocol == "calibrated":
        table = task_features.drop(columns=published)
        if gains is not None:
            table = table.merge(single_scores(gains), left_on="task", right_index=True, how="left")
        return table
    if not published:
        raise StudyInputError("analysis.protocol bingel_sogaard needs the bs_curve_* task features; "
                              "rerun the task features (results/study/task_features.parquet)")
    renamed = {c: c[len(PUBLISHED_PREFIX):] for c in published}
    return task_features.drop(columns=[c for c in renamed.values() if c in task_features.columns]
                              ).rename(columns=renamed)


def pair_features_table(task_features: pd.DataFrame, pairs: pd.DataFrame,
                        protocol: str = "calibrated",
                        gains: pd.DataFrame | None = None) -> pd.DataFrame:
    """main, aux, then main_<f>, aux_<f> and the comparison of the protocol for every feature f."""
    missing = sorted(set(pairs["main"]).union(pairs["aux"]) - set(task_features["task"]))
    if missing:
        raise StudyInputError(f"task features are missing for task(s) {missing}")
    tasks = protocol_task_table(task_features, protocol, gains)
    features = numeric_features(tasks)
    indexed = tasks.set_index("task")[features].astype(float)
    main = indexed.loc[pairs["main"]].reset_index(drop=True)
    aux = indexed.loc[pairs["aux"]].reset_index(drop=True)
    compared = {}
    for feature in features:
        if protocol == "calibrated" and is_difference_feature(feature, indexed[feature]):
            compared[f"main-aux_{feature}"] = (main[feature] - aux[feature]).to_numpy()
        elif protocol == "calibrated":
            compared[f"log_main/aux_{feature}"] = np.log(ratio(main[feature], aux[feature]))
        else:
            compared[f"main/aux_{feature}"] = ratio(main[feature], aux[feature])
    return pd.concat([pairs[["main", "aux"]].reset_index(drop=True), main.add_prefix("main_"),
                      aux.add_prefix("aux_"), pd.DataFrame(compared)], axis=1)


def write_pair_features(task_features_path: str, gains_path: str, out: str,
                        protocol: str = "calibrated") -> None:
    """Write `pair_features.parquet`: one row per ordered (main, aux) pair present in the gains."""
    gains = read_table(gains_path)
    pairs = gains[["main", "aux"]].drop_duplicates().sort_values(["main", "aux"])
    table = pair_features_table(read_table(task_features_path), pairs.reset_index(drop=True),
                                protocol, gains)
    logger.info("pair features (%s protocol): %d ordered pairs x %d features", protocol, len(table),
                table.shape[1] - 2)
    write_table(table, out)
