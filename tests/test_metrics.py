"""Tests of the evaluation: final scores, ROC-AUC, per-class and confusion tables, clip level."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support, roc_auc_score
from test_mtl import N_FOLDS, read_outputs, train

from analysis.mtl.metrics import Outputs, clip_level, final_report, quick_multilabel_scores
from analysis.mtl.tasks import BinaryTask, MulticlassTask, MultilabelTask

THREE = MulticlassTask("t", "d", "l", ("a", "b", "c"))


def random_outputs(n: int, k: int, seed: int) -> Outputs:
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(k), size=n)
    return Outputs(rng.integers(0, k, size=n), probabilities)


def test_multiclass_report_matches_scikit_learn() -> None:
    outputs = random_outputs(50, 3, 0)
    report = final_report(THREE, outputs)
    predicted = outputs.probabilities.argmax(axis=1)
    assert report.scores["accuracy"] == pytest.approx((predicted == outputs.codes).mean())
    assert report.scores["macro_f1"] == pytest.approx(
        f1_score(outputs.codes, predicted, average="macro")
    )
    expected_auc = roc_auc_score(outputs.codes, outputs.probabilities, multi_class="ovr")
    assert report.scores["roc_auc"] == pytest.approx(expected_auc)
    _p, _r, f, s = precision_recall_fscore_support(outputs.codes, predicted, zero_division=0)
    assert [row[3] for row in report.per_class] == pytest.approx(f)
    assert [row[4] for row in report.per_class] == s.tolist()
    assert len(report.confusion) == 9
    assert sum(row[2] for row in report.confusion) == 50
    diagonal = sum(row[2] for row in report.confusion if row[0] == row[1])
    assert diagonal == (predicted == outputs.codes).sum()


def test_binary_auc_is_of_the_positive_class() -> None:
    task = BinaryTask("t", "d", "l", ("neg", "pos"))
    rng = np.random.default_rng(1)
    positive = rng.random(40)
    codes = (positive + rng.normal(0, 0.3, 40) > 0.5).astype(int)
    outputs = Outputs(codes, np.stack([1 - positive, positive], axis=1))
    report = final_report(task, outputs)
    assert report.scores["roc_auc"] == pytest.approx(roc_auc_score(codes, positive))
    assert "micro_f1" not in report.scores


def test_multilabel_scores_per_label() -> None:
    task = MultilabelTask("t", "d", "l", ("a", "b", "c"))
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 2, size=(30, 3))
    probabilities = np.clip(truth * 0.6 + rng.random((30, 3)) * 0.5, 0, 1)
    codes = (truth * np.array([1, 2, 4])).sum(axis=1)
    report = final_report(task, Outputs(codes, probabilities))
    guess = (probabilities > 0.5).astype(int)
    assert report.scores["micro_f1"] == pytest.approx(f1_score(truth, guess, average="micro"))
    assert report.scores["macro_f1"] == pytest.approx(f1_score(truth, guess, average="macro"))
    assert report.scores["accuracy"] == pytest.approx((truth == guess).all(axis=1).mean())
    assert report.scores["roc_auc"] == pytest.approx(roc_auc_score(truth, probabilities))
    quick = quick_multilabel_scores(truth, guess)
    assert quick["macro_f1"] == pytest.approx(report.scores["macro_f1"])
    assert report.confusion == []


def test_undefined_auc_is_nan_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    outputs = Outputs(np.zeros(5, dtype=int), np.full((5, 3), 1 / 3))
    with caplog.at_level(logging.WARNING):
        report = final_report(THREE, outputs)
    assert np.isnan(report.scores["roc_auc"])
    assert "ROC-AUC undefined" in caplog.text


def test_windows_are_averaged_per_clip() -> None:
    codes = np.array([2, 2, 0, 0, 0, 1])
    probabilities = np.array([
        [0.1, 0.1, 0.8], [0.5, 0.1, 0.4],  # clip 7: mean favours c
        [0.9, 0.0, 0.1], [0.2, 0.7, 0.1], [0.2, 0.7, 0.1],  # clip 3: mean favours b
        [0.0, 1.0, 0.0],  # clip 5
    ])
    clips = clip_level(codes, probabilities, np.array([7, 7, 3, 3, 3, 5]))
    assert clips.codes.tolist() == [2, 0, 1]
    np.testing.assert_allclose(clips.probabilities[1], [1.3 / 3, 1.4 / 3, 0.3 / 3])
    assert THREE.decide(clips.probabilities).tolist() == [2, 1, 1]
    same = clip_level(codes, probabilities, None)
    assert same.probabilities is probabilities


def test_model_folder_has_tidy_per_class_and_confusion_tables(
    study: Path, tmp_path: Path
) -> None:
    out = train(study, ["alpha_word", "beta_scene"], tmp_path / "m")
    per_class = pd.read_parquet(out / "per_class.parquet")
    assert list(per_class.columns) == [
        "task", "fold", "seed", "class", "precision", "recall", "f1", "support"
    ]
    assert len(per_class) == 2 * N_FOLDS * 3
    assert per_class.groupby(["task", "fold"])["support"].sum().loc["alpha_word"].tolist() == [
        20, 20, 20
    ]
    confusion = pd.read_parquet(out / "confusion.parquet")
    assert list(confusion.columns) == ["task", "fold", "seed", "true", "predicted", "count"]
    assert len(confusion) == 2 * N_FOLDS * 9
    metrics = read_outputs(out)["metrics"]
    accuracy = metrics.query("task == 'beta_scene' and fold == 0 and metric == 'accuracy'")
    fold0 = confusion.query("task == 'beta_scene' and fold == 0")
    correct = fold0.query("true == predicted")["count"].sum() / fold0["count"].sum()
    assert accuracy["value"].item() == pytest.approx(correct)
