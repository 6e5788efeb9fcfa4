"""Predicted gains of unmeasured pairs (`pairs.select: predicted`).

A ridge regression (cross-validated penalty, standardised features) of the mean gain of each
measured ordered pair on its pair features, applied to every ordered pair of the study's tasks.
It is the analysis stage's meta-model in its simplest form; after a dataset is added to a finished
study it ranks the new tasks' partners before any of their pairs is trained.
"""

from __future__ import annotations

import logging
from itertools import permutations

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from analysis.errors import StudyInputError
from analysis.io import read_table
from analysis.meta.pair_features import pair_features_table
from analysis.stats.gains import gains_table

logger = logging.getLogger(__name__)

PREDICTED_COLUMNS = ["main", "aux", "predicted_gain", "measured", "measured_gain"]


def mean_gains(gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, measured_gain: the mean gain of each ordered pair over folds and seeds."""
    return gains.groupby(["main", "aux"], as_index=False)["gain"].mean().rename(columns={"gain": "measured_gain"})


def usable_columns(features: pd.DataFrame) -> list[str]:
    """Numeric pair-feature columns that are finite on every row."""
    numeric = features.drop(columns=["main", "aux"]).select_dtypes("number")
    finite = np.isfinite(numeric.to_numpy(dtype=float)).all(axis=0)
    return list(numeric.columns[finite])


def predict_gains(features: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """Every row of `features` with its predicted gain, fit on the rows of `measured`."""
    table = features.merge(measured, on=["main", "aux"], how="left")
    columns = usable_columns(features)
    train = table.dropna(subset=["measured_gain"])
    if len(train) < 2 or not columns:
        raise StudyInputError(
            "pairs.select: predicted needs at least one measured pair (two ordered directions) and "
            "pair features to fit on; list more pairs in pairs.measured"
        )
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    model.fit(train[columns].to_numpy(float), train["measured_gain"].to_numpy(float))
    table["predicted_gain"] = model.predict(table[columns].to_numpy(float))
    table["measured"] = table["measured_gain"].notna()
    return table[PREDICTED_COLUMNS].sort_values(["main", "predicted_gain"], ascending=[True, False])


def write_predicted_gains(runs_path: str, task_features_path: str, tasks: list[str], metric: str,
                          protocol: str, out: str) -> None:
    gains = gains_table(read_table(runs_path), metric)
    pairs = pd.DataFrame(list(permutations(sorted(tasks), 2)), columns=["main", "aux"])
    features = pair_features_table(read_table(task_features_path), pairs, protocol, gains)
    predicted = predict_gains(features, mean_gains(gains))
    logger.info("predicted gains of %d ordered pairs from %d measured", len(predicted),
                int(predicted["measured"].sum()))
    predicted.to_csv(out, index=False)
