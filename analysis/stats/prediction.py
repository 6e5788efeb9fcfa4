"""Predict whether MTL helps (mean gain > 0) from pair features (Bingel & Sogaard 2017).

An L2-regularised logistic regression on min-max scaled pair features is scored against the
majority-class baseline on the same folds, with two cross-validation schemes (column `cv`):

- `shuffled_kfold`: the protocol of Bingel & Sogaard, repeated shuffled k-fold (stratified when
  every class has at least `n_splits` pairs); mean and std over the repetitions;
- `leave_one_main_out`: every ordered pair of one main task is held out at a time, so the model never
  sees the task it predicts for: the honest estimate for a task not yet in the study. One
  deterministic split: the scores are of the pooled out-of-fold predictions and std is empty.

Imputation and scaling are fit on the training part of each fold only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, RepeatedKFold, RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from analysis.io import read_table, write_table
from analysis.stats.correlations import PAIR_KEYS, pair_table

logger = logging.getLogger(__name__)

MODELS = ("logistic", "majority")
METRICS = ("accuracy", "f1_gain")
CV_SCHEMES = ("shuffled_kfold", "leave_one_main_out")
SCORE_COLUMNS = ["cv", "model", "metric", "mean", "std", "n_pairs"]


@dataclass
class Design:
    """Features `x` (pairs x features), target `y` (gain > 0), feature names, main task per pair."""

    x: np.ndarray
    y: np.ndarray
    features: list[str]
    groups: np.ndarray


def prediction_design(gains: pd.DataFrame, pair_features: pd.DataFrame) -> Design:
    """Mean gain > 0 per ordered pair against its pair features; all-NaN features are dropped."""
    table = pair_table(gains, pair_features)
    features = pd.DataFrame({c: table[c].astype(float) for c in pair_features.columns
                             if c not in PAIR_KEYS}).replace([np.inf, -np.inf], np.nan)
    empty = [column for column in features.columns if features[column].isna().all()]
    if empty:
        logger.warning("dropping %d all-NaN feature(s) from the prediction: %s", len(empty), empty)
    features = features.drop(columns=empty)
    return Design(features.to_numpy(), (table["gain"] > 0).to_numpy(), list(features.columns),
                  table["main"].astype(str).to_numpy())


def logistic_model(seed: int) -> Pipeline:
    """Median imputation, min-max scaling and L2 logistic regression, all fit per training fold."""
    return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), MinMaxScaler(),
                         LogisticRegression(C=1.0, max_iter=1000, random_state=seed))


def degenerate_reason(design: Design, n_splits: int) -> str | None:
    """Why cross-validation cannot be run on `design`, or None."""
    if len(design.y) < n_splits:
        return f"{len(design.y)} pairs are fewer than {n_splits} folds"
    if len(np.unique(design.y)) < 2:
        return "every pair has the same sign of gain (a single class)"
    if not design.features:
        return "no feature has a value"
    return None


def cross_validator(y: np.ndarray, n_splits: int, repetitions: int,
                    seed: int) -> RepeatedKFold | RepeatedStratifiedKFold:
    """Repeated shuffled k-fold, stratified when every class has at least `n_splits` pairs."""
    if np.bincount(y.astype(int)).min() >= n_splits:
        return RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=repetitions, random_state=seed)
    logger.warning("a class has fewer than %d pairs: folds are not stratified", n_splits)
    return RepeatedKFold(n_splits=n_splits, n_repeats=repetitions, random_state=seed)


def fit_predict_fold(design: Design, train: np.ndarray, test: np.ndarray,
                     seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Logistic and majority predictions on `test` and the logistic coefficients (None: not fit)."""
    x_train, y_train, x_test = design.x[train], design.y[train], design.x[test]
    majority = DummyClassifier(strategy="most_frequent").fit(x_train, y_train).predict(x_test)
    if len(np.unique(y_train)) < 2:
        return majority, majority, None
    model = logistic_model(seed).fit(x_train, y_train)
    return model.predict(x_test), majority, model[-1].coef_[0]


def score(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy and F1 of the positive (gain) class; F1 is 0 if no pair is or is predicted positive.

    Same values as sklearn's `accuracy_score` and `f1_score(zero_division=0)`, without their
    per-call validation cost (200 calls per study).
    """
    true_positive = np.sum(y & predicted)
    wrong = np.sum(y != predicted)
    denominator = 2 * true_positive + wrong
    return {"accuracy": float(np.mean(y == predicted)),
            "f1_gain": float(2 * true_positive / denominator) if denominator else 0.0}


def cross_validate(design: Design, repetitions: int, n_splits: int,
                   seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Scores per repetition (model, repetition, metric, value) and the coefficients of all fits."""
    predictions = {model: np.zeros((repetitions, len(design.y)), dtype=bool) for model in MODELS}
    coefficients, single_class_folds = [], 0
    splits = cross_validator(design.y, n_splits, repetitions, seed).split(design.x, design.y)
    # Multi-threaded BLAS only slows down fits this small (tens of pairs).
    with threadpool_limits(limits=1):
        for index, (train, test) in enumerate(splits):
            logistic, majority, coef = fit_predict_fold(design, train, test, seed)
            predictions["logistic"][index // n_splits, test] = logistic
            predictions["majority"][index // n_splits, test] = majority
            if coef is None:
                single_class_folds += 1
            else:
                coefficients.append(coef)
    if single_class_folds:
        logger.warning("%d training folds had a single class; the logistic model predicts it there",
                       single_class_folds)
    rows = [{"model": model, "repetition": repetition, "metric": metric, "value": value}
            for model in MODELS for repetition in range(repetitions)
            for metric, value in score(design.y, predictions[model][repetition]).items()]
    return pd.DataFrame(rows), np.array(coefficients).reshape(-1, len(design.features))


def grouped_cross_validate(design: Design, seed: int) -> pd.DataFrame:
    """Leave-one-main-task-out scores of the pooled out-of-fold predictions, std empty."""
    predictions = {model: np.zeros(len(design.y), dtype=bool) for model in MODELS}
    with threadpool_limits(limits=1):
        for train, test in LeaveOneGroupOut().split(design.x, design.y, design.groups):
            logistic, majority, _ = fit_predict_fold(design, train, test, seed)
            predictions["logistic"][test], predictions["majority"][test] = logistic, majority
    rows = [{"cv": CV_SCHEMES[1], "model": model, "metric": metric, "mean": value, "std": np.nan,
             "n_pairs": len(design.y)}
            for model in MODELS for metric, value in score(design.y, predictions[model]).items()]
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def summarise_scores(scores: pd.DataFrame, n_pairs: int) -> pd.DataFrame:
    """cv, model, metric, mean, std (over repetitions), n_pairs of the shuffled k-fold scores."""
    summary = scores.groupby(["model", "metric"], sort=False)["value"].agg(["mean", "std"])
    summary = summary.reset_index().assign(cv=CV_SCHEMES[0], n_pairs=n_pairs)
    return summary[SCORE_COLUMNS]


def summarise_coefficients(coefficients: np.ndarray, features: list[str]) -> pd.DataFrame:
    """feature, mean_coefficient, std_coefficient over every fitted fold model."""
    if len(coefficients) == 0:
        return nan_coefficients(features)
    return pd.DataFrame({"feature": features, "mean_coefficient": coefficients.mean(axis=0),
                         "std_coefficient": coefficients.std(axis=0)})


def nan_scores(n_pairs: int, schemes: tuple[str, ...] = CV_SCHEMES) -> pd.DataFrame:
    return pd.DataFrame([{"cv": cv, "model": model, "metric": metric, "mean": np.nan,
                          "std": np.nan, "n_pairs": n_pairs}
                         for cv in schemes for model in MODELS for metric in METRICS],
                        columns=SCORE_COLUMNS)


def nan_coefficients(features: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"feature": features, "mean_coefficient": np.nan,
                         "std_coefficient": np.nan}, columns=["feature", "mean_coefficient",
                                                              "std_coefficient"])


def prediction_tables(gains: pd.DataFrame, pair_features: pd.DataFrame, repetitions: int = 100,
                      n_splits: int = 5, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scores table and the coefficients table; NaN tables with a warning when degenerate."""
    design = prediction_design(gains, pair_features)
    reason = degenerate_reason(design, n_splits)
    if reason is not None:
        logger.warning("gain-sign prediction not possible: %s; writing NaN scores", reason)
        return nan_scores(len(design.y)), nan_coefficients(design.features)
    scores, coefficients = cross_validate(design, repetitions, n_splits, seed)
    if len(np.unique(design.groups)) < 2:
        logger.warning("fewer than 2 main tasks: no leave-one-main-out cross-validation")
        grouped = nan_scores(len(design.y), CV_SCHEMES[1:])
    else:
        grouped = grouped_cross_validate(design, seed)
    return (pd.concat([summarise_scores(scores, len(design.y)), grouped], ignore_index=True),
            summarise_coefficients(coefficients, design.features))


def write_prediction(gains_path: str, pair_features_path: str, scores_csv: str,
                     coefficients_csv: str, repetitions: int = 100, n_splits: int = 5,
                     seed: int = 0) -> None:
    """Write `prediction.csv` (cv, model, metric, mean, std, n_pairs) and `coefficients.csv`."""
    scores, coefficients = prediction_tables(read_table(gains_path), read_table(pair_features_path),
                                             repetitions, n_splits, seed)
    write_table(scores, scores_csv)
    write_table(coefficients, coefficients_csv)
