"""The prediction protocol of Bingel & Sogaard (2017), `analysis.protocol: bingel_sogaard`.

Bingel, J. and Sogaard, A. (2017). Identifying beneficial task relations for multi-task learning in
deep neural networks. EACL 2017, pp. 164-169. Their code: github.com/jbingel/eacl2017_mtl,
`experiments.ipynb` (cells "Preprocessing" and "Classification / All features"), which this module
follows:

- target: the sign of the gain (`np.sign` of their relative gain; a pair gains when its mean gain
  over folds and seeds is > 0, a gain of exactly 0 counts as no gain here where their code would
  make it a third class);
- features: every pair feature (`main_*`, `aux_*`, `main/aux_*`, their curve definitions; see
  `analysis.meta.pair_features`) scaled by `MinMaxScaler` fit on all pairs before the
  cross-validation, as their code does (the only place in the study where a scaler sees the test
  part; it is part of the published numbers). Their features never lacked a value; a missing one is
  imputed here with the median of all pairs;
- model: `LogisticRegression()` of scikit-learn 0.18, whose defaults were the `liblinear` solver, L2,
  C = 1;
- cross-validation: 100 repetitions of `KFold(n_splits=5, shuffle=True)`, each scored by
  `cross_val_score(..., scoring="f1")` (F1 of the gain class per fold, averaged over the 5 folds);
  the mean and standard deviation over the repetitions are reported. Their `random_state` was
  `np.random.randint(100)` without a recorded seed; here repetition r uses `random_state = seed + r`,
  so the numbers are reproducible and, over 100 repetitions, drawn the same way as theirs;
- baseline: the majority class (`DummyClassifier(strategy="most_frequent")`) on the same folds.

Shuffled k-fold lets the features of a main task identify it in the test folds, and the gain sign of
a pair whose interval contains 0 is mostly noise: read these numbers as a reproduction of the
published protocol, not as evidence that a new task's gains can be predicted (use the calibrated
protocol for that).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from analysis.stats.correlations import mean_gains
from analysis.stats.prediction import (
    SCORE_COLUMNS,
    coefficient_table,
    design,
)

logger = logging.getLogger(__name__)

PROTOCOL = "bingel_sogaard"
METRICS = {"f1": "f1_gain", "accuracy": "accuracy"}


def published_model() -> LogisticRegression:
    """scikit-learn 0.18's `LogisticRegression()`: liblinear, L2, C = 1."""
    return LogisticRegression(solver="liblinear", C=1.0)


def scaled_features(x: np.ndarray) -> np.ndarray:
    """Median imputation and min-max scaling fit on all pairs, as in their preprocessing cell."""
    imputed = SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(x)
    return MinMaxScaler().fit_transform(imputed)


def repeated_scores(x: np.ndarray, y: np.ndarray, repetitions: int, n_splits: int,
                    seed: int) -> dict[tuple[str, str], np.ndarray]:
    """Per (model, metric) the fold-averaged score of every repetition."""
    models = {"logistic": published_model(), "majority": DummyClassifier(strategy="most_frequent")}
    scores = {(model, metric): np.zeros(repetitions) for model in models for metric in METRICS}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # A test fold without a gain (or a majority model predicting none) scores F1 = 0, as in
        # scikit-learn 0.18, which warned the same way.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for repetition in range(repetitions):
            folds = KFold(n_splits=n_splits, shuffle=True, random_state=seed + repetition)
            for name, model in models.items():
                for metric in METRICS:
                    scores[(name, metric)][repetition] = cross_val_score(
                        model, x, y, cv=folds, scoring=metric).mean()
    return scores


def fold_coefficients(x: np.ndarray, y: np.ndarray, repetitions: int, n_splits: int,
                      seed: int) -> list[np.ndarray]:
    coefficients = []
    for repetition in range(repetitions):
        folds = KFold(n_splits=n_splits, shuffle=True, random_state=seed + repetition)
        for train, _ in folds.split(x):
            if len(np.unique(y[train])) == 2:
                coefficients.append(published_model().fit(x[train], y[train]).coef_[0])
    return coefficients


def published_tables(gains: pd.DataFrame, pair_features: pd.DataFrame, repetitions: int = 100,
                     n_splits: int = 5, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores (mean and std over repetitions) and mean coefficients of the published protocol."""
    targets = mean_gains(gains)
    targets["gain_sign"] = targets["gain"] > 0
    data = design(targets, pair_features, "gain_sign")
    y = data.y.astype(int)
    common = {"protocol": PROTOCOL, "target": "gain_sign", "cv": "shuffled_kfold",
              "p_value": np.nan, "permutation": "", "n_permutations": 0, "n_pairs": len(y),
              "n_tasks": len(data.tasks), "n_positive": int(y.sum())}
    reason = (f"{len(y)} pairs are fewer than {n_splits} folds" if len(y) < n_splits
              else "every pair has the same sign of gain" if len(np.unique(y)) < 2
              else "no feature has a value" if not data.features else None)
    if reason is not None:
        logger.warning("published-protocol prediction not possible: %s; writing NaN scores", reason)
        rows = [{**common, "model": model, "metric": METRICS[metric], "value": np.nan,
                 "std": np.nan} for model in ("logistic", "majority") for metric in METRICS]
        return (pd.DataFrame(rows, columns=SCORE_COLUMNS),
                coefficient_table([], data.features, PROTOCOL, "gain_sign"))
    x = scaled_features(data.x)
    scores = repeated_scores(x, y, repetitions, n_splits, seed)
    rows = [{**common, "model": model, "metric": METRICS[metric], "value": float(values.mean()),
             "std": float(values.std())} for (model, metric), values in scores.items()]
    coefficients = fold_coefficients(x, y, repetitions, n_splits, seed)
    return (pd.DataFrame(rows, columns=SCORE_COLUMNS),
            coefficient_table(coefficients, data.features, PROTOCOL, "gain_sign"))
