"""Test-fold evaluation of every task of a model."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score

from analysis.mtl.data import FoldData
from analysis.mtl.models import SharedTrunkNet
from analysis.mtl.tasks import MulticlassTask

METRICS = ("accuracy", "macro_f1")
EVAL_BATCH = 4096


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 (over the classes present in y_true or y_pred), by scikit-learn."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def quick_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The same scores as `classification_scores` from a confusion matrix, without sklearn's
    per-call validation overhead: for the per-epoch history. Equal up to float rounding."""
    present = np.union1d(y_true, y_pred)  # classes present in either
    true = np.searchsorted(present, y_true)
    pred = np.searchsorted(present, y_pred)
    k = len(present)
    confusion = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)  # (true, pred)
    tp = np.diag(confusion).astype(np.float64)
    denominator = confusion.sum(axis=0) + confusion.sum(axis=1)  # 2 tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(k), where=denominator > 0)
    return {"accuracy": float(tp.sum() / len(y_true)), "macro_f1": float(f1.mean())}


@torch.no_grad()
def predict(model: SharedTrunkNet, task: MulticlassTask, x: torch.Tensor) -> np.ndarray:
    """Predicted class of each row of x (n, n_features) -> (n,), in eval mode, in chunks."""
    was_training = model.training
    model.eval()
    try:
        chunks = [task.predict(model(part)[task.name]) for part in x.split(EVAL_BATCH)]
    finally:
        model.train(was_training)
    return torch.cat(chunks).numpy()


def evaluate(
    model: SharedTrunkNet,
    tasks: list[MulticlassTask],
    fold: FoldData,
    scorer: Callable[[np.ndarray, np.ndarray], dict[str, float]] = classification_scores,
) -> dict[str, dict[str, float]]:
    """{task: {metric: value}} on each task's own test part."""
    scores = {}
    for task in tasks:
        part = fold.test[task.name]
        scores[task.name] = scorer(part.y, predict(model, task, part.x))
    return scores
