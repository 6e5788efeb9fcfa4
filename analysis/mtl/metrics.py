"""Test-fold evaluation of every task of a model.

Scores are computed at clip level: when a test part carries `clip_rows` (the clip of each row, for
features windowed into several rows per clip), the probabilities of a clip's rows are averaged and
the task's decision rule is applied to the mean. Final scores use scikit-learn:

- `accuracy` (multilabel: exact-match accuracy), `macro_f1` (over the classes present in the truth
  or the predictions; multilabel: over all labels), `micro_f1` (multilabel only);
- `roc_auc`: the mean one-vs-rest (multiclass) or per-label (multilabel) ROC-AUC over the classes
  for which it is defined (both outcomes present in the test part); binary: of the positive class.
  NaN, with a warning, when it is defined for none;
- per class: precision, recall, F1 and support; the confusion matrix of single-label tasks.

The per-epoch history uses `quick_scores` (accuracy and macro-F1 from counts, equal to
scikit-learn's up to rounding) because scikit-learn's input validation dominates at that rate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from analysis.mtl.layers import MultiTaskNet, model_device
from analysis.mtl.tasks import MultilabelTask, Task

logger = logging.getLogger(__name__)

METRICS = ("accuracy", "macro_f1")  # every task, every epoch
EVAL_BATCH = 4096


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 (over the classes present in y_true or y_pred), by scikit-learn."""
    from sklearn.metrics import accuracy_score, f1_score

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


def quick_multilabel_scores(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Exact-match accuracy and macro-F1 over labels of (n, n_labels) 0/1 matrices."""
    tp = (true & pred).sum(axis=0).astype(np.float64)
    denominator = true.sum(axis=0) + pred.sum(axis=0)
    f1 = np.divide(2 * tp, denominator, out=np.zeros(len(tp)), where=denominator > 0)
    return {"accuracy": float((true == pred).all(axis=1).mean()), "macro_f1": float(f1.mean())}


@dataclass(frozen=True)
class Outputs:
    """A task's test part at clip level: true codes (n,) and probabilities (n, n_classes)."""

    codes: np.ndarray
    probabilities: np.ndarray


def clip_level(codes: np.ndarray, probabilities: np.ndarray, clip_rows: Any) -> Outputs:
    """Mean probabilities of the rows of each clip (clips in order of first appearance)."""
    if clip_rows is None:
        return Outputs(codes, probabilities)
    clips, first, inverse = np.unique(np.asarray(clip_rows), return_index=True, return_inverse=True)
    sums = np.zeros((len(clips), probabilities.shape[1]))
    np.add.at(sums, inverse, probabilities)
    counts = np.bincount(inverse, minlength=len(clips))[:, None]
    order = np.argsort(first, kind="stable")
    return Outputs(codes[first][order], (sums / counts)[order])


@torch.no_grad()
def test_outputs(model: MultiTaskNet, task: Task, part: Any) -> Outputs:
    """Probabilities of every row of a test part, in eval mode and in chunks, at clip level."""
    was_training = model.training
    model.eval()
    try:
        device = model_device(model)
        chunks = [task.probabilities(model(rows.to(device))[task.name]).cpu()
                  for rows in part.batches(EVAL_BATCH)]
    finally:
        model.train(was_training)
    probabilities = torch.cat(chunks).double().numpy()  # (n_rows, n_classes)
    return clip_level(np.asarray(part.y), probabilities, getattr(part, "clip_rows", None))


def epoch_scores(task: Task, outputs: Outputs) -> dict[str, float]:
    """Accuracy and macro-F1 for the history."""
    if hasattr(task, "epoch_scores"):  # detection: frame level (analysis.mtl.sed_metrics)
        return task.epoch_scores(outputs)
    predicted = task.decide(outputs.probabilities)
    if isinstance(task, MultilabelTask):
        return quick_multilabel_scores(task.indicators(outputs.codes), task.indicators(predicted))
    return quick_scores(outputs.codes, predicted)


def evaluate(model: MultiTaskNet, tasks: list[Task], fold: Any) -> dict[str, dict[str, float]]:
    """{task: {metric: value}} of `METRICS` on each task's own test part."""
    return {
        task.name: epoch_scores(task, test_outputs(model, task, fold.test[task.name]))
        for task in tasks
    }


def roc_auc(task: Task, outputs: Outputs) -> float:
    """Mean ROC-AUC over the classes where it is defined; NaN (with a warning) where none is."""
    from sklearn.metrics import roc_auc_score

    if task.n_outputs == 1:  # binary: the positive class only
        truth, scores = outputs.codes[:, None], outputs.probabilities[:, 1:]
    else:
        truth, scores = task.indicators(outputs.codes), outputs.probabilities
    values = []
    for column in range(truth.shape[1]):
        if len(np.unique(truth[:, column])) == 2:
            values.append(float(roc_auc_score(truth[:, column], scores[:, column])))
    undefined = truth.shape[1] - len(values)
    if undefined:
        logger.warning(
            "task %s: ROC-AUC undefined for %d of %d class(es) (one outcome only in the test part)",
            task.name, undefined, truth.shape[1],
        )
    return float(np.mean(values)) if values else float("nan")


@dataclass
class TaskReport:
    """Final scores of one task: {metric: value}, per-class rows and confusion rows."""

    scores: dict[str, float]
    per_class: list[tuple[str, float, float, float, int]] = field(default_factory=list)
    confusion: list[tuple[str, str, int]] = field(default_factory=list)


def final_report(task: Task, outputs: Outputs) -> TaskReport:
    """scikit-learn scores, per-class precision / recall / F1 and (single-label) confusion."""
    from sklearn.metrics import (  # imported here: scikit-learn is not needed before the end
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    if hasattr(task, "final_report"):  # detection: sed_eval metrics (analysis.mtl.sed_metrics)
        return task.final_report(outputs)
    predicted = task.decide(outputs.probabilities)
    labels = list(range(len(task.classes)))
    if isinstance(task, MultilabelTask):
        truth, guess = task.indicators(outputs.codes), task.indicators(predicted)
        scores = {
            "accuracy": float(accuracy_score(truth, guess)),
            "macro_f1": float(f1_score(truth, guess, average="macro", zero_division=0)),
            "micro_f1": float(f1_score(truth, guess, average="micro", zero_division=0)),
        }
    else:
        truth, guess = outputs.codes, predicted
        scores = classification_scores(truth, guess)
    scores["roc_auc"] = roc_auc(task, outputs)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=labels, zero_division=0
    )
    report = TaskReport(scores)
    for i, name in enumerate(task.classes):
        report.per_class.append((name, precision[i], recall[i], f1[i], int(support[i])))
    if not isinstance(task, MultilabelTask):
        matrix = confusion_matrix(truth, guess, labels=labels)  # (true, predicted)
        for i, true_name in enumerate(task.classes):
            for j, predicted_name in enumerate(task.classes):
                report.confusion.append((true_name, predicted_name, int(matrix[i, j])))
    return report


def final_evaluation(model: MultiTaskNet, tasks: list[Task], fold: Any) -> dict[str, TaskReport]:
    return {
        task.name: final_report(task, test_outputs(model, task, fold.test[task.name]))
        for task in tasks
    }
