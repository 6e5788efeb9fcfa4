"""Predict which task pairs gain from pair features, scored so that a task not yet in the study is
predicted honestly (config `analysis.protocol: calibrated`, the default).

Two targets, one row of `prediction.csv` per target, model and metric:

- `significant_gain`: whether the pair's verdict (`pair_gains.csv`, corrected resampled t-test with
  Benjamini-Hochberg) is a significant gain; pairs the test could not test are left out. Scored by
  balanced accuracy (0.5 = chance, whatever the share of gains).
- `gain`: the pair's mean gain itself, scored by the out-of-fold R^2 (0 = predicting the mean).

Cross-validation `leave_task_out`: one fold per main task t; the model predicts the pairs whose main
task is t after being fit on the pairs that touch neither t as main nor as auxiliary task, so no
feature value of t is seen in training. Every pair is predicted once; the score is of the pooled
out-of-fold predictions. Imputation (training median) and standardisation are fit on each training
part; the features are every pair feature (fixed beforehand, none selected on the data).

The model is ridge regression on the standardised features, its penalty chosen from a fixed grid by
the same leave-task-out cross-validation inside each training part (nested: a leave-one-pair-out
choice would see other pairs of the same tasks and choose too little shrinkage); for
`significant_gain` on the 0/1 labels (a linear probability model), predicting a gain where its
prediction exceeds the share of gains in the training part. It is compared with a baseline on the
same folds: scikit-learn's `DummyClassifier(strategy="stratified")` (random labels in the training
proportions) or `DummyRegressor` (the training mean).

Its p-value is a permutation test of the model's score: the same cross-validation on targets whose
tasks are relabelled at random (pair (m, a) gets the target of (pi(m), pi(a)) for a random
permutation pi of the tasks), p = (1 + #permuted scores >= observed) / (1 + #permutations). This
keeps what the pairs of one task share, so the test is calibrated when gains differ by task.
scikit-learn's `permutation_test_score` permutes pairs, which breaks that structure and is
optimistic here; with `groups` it permutes within a main task, which keeps a main-task effect intact
and so cannot detect one. When the pair set is not closed under relabelling (not every ordered pair
of the tasks is present) pairs are shuffled freely and the table says so (`permutation: pairs`).
The model is linear in the target for a fixed penalty, so all permutations are fit at once.

`analysis.protocol: bingel_sogaard` runs the published protocol instead
(`analysis.stats.bingel_sogaard`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier, DummyRegressor

from analysis.io import read_table, write_table
from analysis.mtl.controls import involves_control
from analysis.stats.correlations import PAIR_KEYS, mean_gains

logger = logging.getLogger(__name__)

SCORE_COLUMNS = ["protocol", "target", "cv", "model", "metric", "value", "std", "p_value",
                 "permutation", "n_permutations", "n_pairs", "n_tasks", "n_positive"]
COEFFICIENT_COLUMNS = ["protocol", "target", "feature", "mean_coefficient", "std_coefficient"]
SIGNIFICANT_GAIN = "gain"
NOT_TESTED = "not tested"
RIDGE_ALPHAS = np.logspace(-2, 4, 13)


@dataclass
class Design:
    """Features `x` (pairs x features), target `y`, feature names, main and aux task per pair."""

    x: np.ndarray
    y: np.ndarray
    features: list[str]
    main: np.ndarray
    aux: np.ndarray

    @property
    def tasks(self) -> list[str]:
        return sorted(set(self.main) | set(self.aux))


def feature_frame(table: pd.DataFrame, pair_features: pd.DataFrame) -> pd.DataFrame:
    """The numeric pair features of `table`'s pairs, inf as NaN, all-NaN columns dropped."""
    features = pd.DataFrame({c: table[c].astype(float) for c in pair_features.columns
                             if c not in PAIR_KEYS}).replace([np.inf, -np.inf], np.nan)
    empty = [column for column in features.columns if features[column].isna().all()]
    if empty:
        logger.warning("dropping %d all-NaN feature(s) from the prediction: %s", len(empty), empty)
    return features.drop(columns=empty)


def design(targets: pd.DataFrame, pair_features: pd.DataFrame, target: str) -> Design:
    """The pairs of `targets` (main, aux, `target`) that have pair features, as a design; pairs
    with a control task (shuffled labels, `controls: true`) are left out: they show what no
    information does, they are not task pairs whose gains a predictor should learn."""
    control = involves_control(targets["main"], targets["aux"])
    if control.any():
        logger.info("%d control pair(s) left out of the prediction", int(control.sum()))
    table = targets[~control].merge(pair_features, on=PAIR_KEYS, how="inner",
                                    validate="one_to_one")
    features = feature_frame(table, pair_features)
    return Design(features.to_numpy(), table[target].to_numpy(), list(features.columns),
                  table["main"].astype(str).to_numpy(), table["aux"].astype(str).to_numpy())


def verdict_targets(pair_gains: pd.DataFrame) -> pd.DataFrame:
    """main, aux, significant_gain (bool) of the pairs with a tested verdict."""
    tested = pair_gains[~pair_gains["verdict"].astype(str).str.startswith(NOT_TESTED)]
    if len(tested) < len(pair_gains):
        logger.warning("%d pair(s) without a tested verdict are left out of the significant-gain "
                       "prediction", len(pair_gains) - len(tested))
    return tested[PAIR_KEYS].assign(significant_gain=(tested["verdict"] == SIGNIFICANT_GAIN))


@dataclass
class Fold:
    """Train and test rows of one fold, their features imputed (training medians) and standardised
    (training means and deviations), the singular value decomposition of the training features,
    and the inner leave-task-out folds of the training part that choose the ridge penalty. None of
    it depends on the target, so every permutation reuses it."""

    train: np.ndarray
    test: np.ndarray
    x_test: np.ndarray
    u: np.ndarray
    s: np.ndarray
    vt: np.ndarray
    inner: list[Fold] = field(default_factory=list)


def task_folds(data: Design, rows: np.ndarray, nested: bool) -> list[Fold]:
    """Per main task t of `rows`: train on the rows touching neither t, test on those whose main
    task is t; with `nested`, each fold gets the same folds of its own training rows."""
    folds = []
    for task in sorted(set(data.main[rows])):
        test = rows[data.main[rows] == task]
        train = rows[(data.main[rows] != task) & (data.aux[rows] != task)]
        if len(train) < 2:
            continue
        x_train, x_test = standardised(data.x[train], data.x[test])
        u, s, vt = np.linalg.svd(x_train, full_matrices=False)
        inner = task_folds(data, train, nested=False) if nested else []
        folds.append(Fold(train, test, x_test, u, s, vt, inner))
    return folds


def standardised(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Missing values imputed with the training median (0 where a training column has none), then
    centred and scaled by the training mean and standard deviation (1 where it is 0): what
    scikit-learn's `SimpleImputer(strategy="median", keep_empty_features=True)` and
    `StandardScaler` do, without their per-call validation (thousands of folds per study)."""
    missing = np.isnan(train).any(axis=0) | np.isnan(test).any(axis=0)
    if missing.any():
        median = np.zeros(train.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN training column
            median[missing] = np.nan_to_num(np.nanmedian(train[:, missing], axis=0))
        train, test = (np.where(np.isnan(x), median, x) for x in (train, test))
    mean, scale = train.mean(axis=0), train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return (train - mean) / scale, (test - mean) / scale


def leave_task_out(data: Design) -> list[Fold]:
    """The outer folds, each with its inner folds."""
    return task_folds(data, np.arange(len(data.y)), nested=True)


def ridge_weights(fold: Fold, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge solutions in the basis of the training features' right singular vectors
    (alphas x rank x B) for every column of `y` (pairs x B) and penalty of `RIDGE_ALPHAS`, and the
    intercepts (the training means: the intercept is not penalised)."""
    y_train = y[fold.train]
    mean = y_train.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(fold.s > 0, fold.s / (fold.s ** 2 + RIDGE_ALPHAS[:, None]), 0.0)
    return factor[:, :, None] * (fold.u.T @ (y_train - mean))[None], mean


def ridge_path(fold: Fold, y: np.ndarray) -> np.ndarray:
    """Test predictions (alphas x test rows x B) of every column of `y` and penalty."""
    weights, mean = ridge_weights(fold, y)
    return np.matmul(fold.x_test @ fold.vt.T, weights) + mean


def chosen_alpha(fold: Fold, y: np.ndarray) -> np.ndarray:
    """Per column of `y`, the index of the penalty with the smallest squared error of the inner
    leave-task-out predictions of the fold's training rows."""
    error = np.zeros((len(RIDGE_ALPHAS), y.shape[1]))
    for inner in fold.inner:
        predicted = ridge_path(inner, y)
        error += np.sum((predicted - y[inner.test][None]) ** 2, axis=1)
    return np.argmin(error, axis=0)


def out_of_fold(y: np.ndarray, folds: list[Fold]) -> tuple[np.ndarray, np.ndarray]:
    """Pooled out-of-fold ridge predictions (pairs x B) and the coefficients of every fold
    (folds x features) for the first column."""
    y = y.astype(float).reshape(len(y), -1)
    predicted = np.zeros_like(y)
    columns = np.arange(y.shape[1])
    coefficients = []
    for fold in folds:
        best = chosen_alpha(fold, y)
        weights, mean = ridge_weights(fold, y)
        chosen = weights[best, :, columns].T
        predicted[fold.test] = fold.x_test @ fold.vt.T @ chosen + mean
        coefficients.append(fold.vt.T @ chosen[:, 0])
    return predicted, np.array(coefficients)


def classify(y: np.ndarray, predicted: np.ndarray, folds: list[Fold]) -> np.ndarray:
    """A gain where the predicted probability exceeds the share of gains in the fold's training
    rows, the threshold that balances the two kinds of error of a linear probability model."""
    y = y.astype(float).reshape(len(y), -1)
    labels = np.zeros(predicted.shape, dtype=bool)
    for fold in folds:
        labels[fold.test] = predicted[fold.test] > y[fold.train].mean(axis=0)
    return labels


def balanced_accuracy(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean of the recalls of the two classes, per column of `y` and `labels` (pairs x B)."""
    y = y.reshape(len(y), -1).astype(bool)
    labels = labels.reshape(len(labels), -1)
    positive = np.sum(labels & y, axis=0) / np.sum(y, axis=0)
    negative = np.sum(~labels & ~y, axis=0) / np.sum(~y, axis=0)
    return (positive + negative) / 2


def r_squared(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """1 - SSE / SST around the mean of all pairs, per column; NaN without spread."""
    y = y.astype(float).reshape(len(y), -1)
    total = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1 - np.sum((y - predicted) ** 2, axis=0) / total, np.nan)


def model_scores(y: np.ndarray, folds: list[Fold], binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every column of `y` and the fold coefficients of the first."""
    predicted, coefficients = out_of_fold(y, folds)
    if binary:
        return balanced_accuracy(y, classify(y, predicted, folds)), coefficients
    return r_squared(y, predicted), coefficients


def baseline_score(y: np.ndarray, folds: list[Fold], binary: bool, seed: int) -> float:
    """Score of scikit-learn's stratified dummy classifier or mean dummy regressor, same folds."""
    predicted = np.zeros(len(y), dtype=y.dtype if binary else float)
    for fold in folds:
        model = (DummyClassifier(strategy="stratified", random_state=seed) if binary
                 else DummyRegressor(strategy="mean"))
        predicted[fold.test] = model.fit(np.zeros((len(fold.train), 1)), y[fold.train]).predict(
            np.zeros((len(fold.test), 1)))
    return float((balanced_accuracy(y, predicted) if binary else r_squared(y, predicted))[0])


def task_permutation(data: Design, rng: np.random.Generator) -> np.ndarray | None:
    """Index of the pair whose target each pair takes under a random relabelling of the tasks;
    None when the pair set is not closed under relabelling."""
    tasks = data.tasks
    index = {(m, a): i for i, (m, a) in enumerate(zip(data.main, data.aux))}
    if len(index) != len(tasks) * (len(tasks) - 1):
        return None
    relabel = dict(zip(tasks, rng.permutation(tasks)))
    return np.array([index[(relabel[m], relabel[a])] for m, a in zip(data.main, data.aux)])


def permuted_targets(data: Design, permutations: int, seed: int) -> tuple[np.ndarray, str]:
    """Targets (pairs x permutations) under random task relabellings (or pair shuffles)."""
    rng = np.random.default_rng(seed)
    how = "tasks" if task_permutation(data, rng) is not None else "pairs"
    if how == "pairs":
        logger.warning("not every ordered pair of the tasks is present: the permutation test "
                       "shuffles pairs, which is optimistic when gains differ by task")
    orders = [task_permutation(data, rng) if how == "tasks" else rng.permutation(len(data.y))
              for _ in range(permutations)]
    return np.column_stack([data.y[order] for order in orders]), how


def permutation_p(observed: float, permuted: np.ndarray) -> float:
    """(1 + #permuted scores >= observed) / (1 + #permutations)."""
    return float((1 + np.sum(permuted >= observed - 1e-12)) / (1 + len(permuted)))


def score_rows(data: Design, target: str, binary: bool, permutations: int,
               seed: int) -> tuple[list[dict], pd.DataFrame]:
    """Rows of the scores table and the coefficients of one target."""
    folds = leave_task_out(data)
    metric = "balanced_accuracy" if binary else "r_squared"
    scores, coefficients = model_scores(data.y, folds, binary)
    permuted, how = permuted_targets(data, permutations, seed)
    observed = float(scores[0])
    p_value = permutation_p(observed, model_scores(permuted, folds, binary)[0])
    common = {"protocol": "calibrated", "target": target, "cv": "leave_task_out", "metric": metric,
              "std": np.nan, "n_pairs": len(data.y), "n_tasks": len(data.tasks),
              "n_positive": int(np.sum(data.y)) if binary else np.nan}
    rows = [{**common, "model": "ridge_classifier" if binary else "ridge", "value": observed,
             "p_value": p_value, "permutation": how, "n_permutations": permutations},
            {**common, "model": "stratified_dummy" if binary else "mean_dummy",
             "value": baseline_score(data.y, folds, binary, seed), "p_value": np.nan,
             "permutation": "", "n_permutations": 0}]
    return rows, coefficient_table(list(coefficients), data.features, "calibrated", target)


def coefficient_table(coefficients: list[np.ndarray], features: list[str], protocol: str,
                      target: str) -> pd.DataFrame:
    """Mean and std of each feature's coefficient over the fitted fold models (standardised
    features for the calibrated protocol, min-max scaled for the published one)."""
    values = (np.array(coefficients) if coefficients
              else np.full((1, len(features)), np.nan))
    return pd.DataFrame({"protocol": protocol, "target": target, "feature": features,
                         "mean_coefficient": values.mean(axis=0),
                         "std_coefficient": values.std(axis=0)}, columns=COEFFICIENT_COLUMNS)


def not_possible(data: Design, target: str, binary: bool) -> str | None:
    """Why `target` cannot be predicted from `data`, or None."""
    mains = set(data.main)
    if len(mains) < 3:
        return f"{len(mains)} main task(s): leave-task-out needs at least 3"
    if not data.features:
        return "no feature has a value"
    if binary:
        counts = np.bincount(data.y.astype(int), minlength=2)
        if counts.min() < 2:
            return f"{counts[1]} pair(s) with a significant gain among {len(data.y)} tested"
    elif np.ptp(data.y) == 0:
        return "every pair has the same gain"
    return None


def nan_rows(data: Design, target: str, binary: bool, reason: str) -> list[dict]:
    logger.warning("prediction of %s not possible: %s; writing NaN scores", target, reason)
    models = ("ridge_classifier", "stratified_dummy") if binary else ("ridge", "mean_dummy")
    return [{"protocol": "calibrated", "target": target, "cv": "leave_task_out", "model": model,
             "metric": "balanced_accuracy" if binary else "r_squared", "value": np.nan,
             "std": np.nan, "p_value": np.nan, "permutation": reason, "n_permutations": 0,
             "n_pairs": len(data.y), "n_tasks": len(data.tasks), "n_positive": np.nan}
            for model in models]


def calibrated_tables(gains: pd.DataFrame, pair_gains: pd.DataFrame | None,
                      pair_features: pd.DataFrame, permutations: int = 500,
                      seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and coefficients of the significant-gain classifier and the gain regression."""
    targets = []
    if pair_gains is not None and "verdict" in pair_gains.columns:
        targets.append(("significant_gain", True, verdict_targets(pair_gains)))
    else:
        logger.warning("no pair verdicts: only the gain itself is predicted")
    targets.append(("gain", False, mean_gains(gains)))
    rows, coefficients = [], []
    for target, binary, table in targets:
        data = design(table, pair_features, target)
        reason = not_possible(data, target, binary)
        if reason is not None:
            rows += nan_rows(data, target, binary, reason)
            coefficients.append(coefficient_table([], data.features, "calibrated", target))
            continue
        target_rows, target_coefficients = score_rows(data, target, binary, permutations, seed)
        rows += target_rows
        coefficients.append(target_coefficients)
    return (pd.DataFrame(rows, columns=SCORE_COLUMNS),
            pd.concat(coefficients, ignore_index=True))


def prediction_tables(gains: pd.DataFrame, pair_gains: pd.DataFrame | None,
                      pair_features: pd.DataFrame, protocol: str = "calibrated",
                      permutations: int = 500, repetitions: int = 100, n_splits: int = 5,
                      seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scores table and the coefficients table of `protocol`."""
    if protocol == "bingel_sogaard":
        from analysis.stats.bingel_sogaard import published_tables

        return published_tables(gains, pair_features, repetitions, n_splits, seed)
    return calibrated_tables(gains, pair_gains, pair_features, permutations, seed)


def write_prediction(gains_path: str, pair_gains_path: str | None, pair_features_path: str,
                     scores_csv: str, coefficients_csv: str, protocol: str = "calibrated",
                     permutations: int = 500, repetitions: int = 100, n_splits: int = 5,
                     seed: int = 0) -> None:
    """Write `prediction.csv` (SCORE_COLUMNS) and `coefficients.csv` (COEFFICIENT_COLUMNS)."""
    pair_gains = read_table(pair_gains_path) if pair_gains_path else None
    scores, coefficients = prediction_tables(
        read_table(gains_path), pair_gains, read_table(pair_features_path), protocol,
        permutations, repetitions, n_splits, seed)
    write_table(scores, scores_csv)
    write_table(coefficients, coefficients_csv)
