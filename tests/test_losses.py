"""Tests of the loss combinations: sum, fixed weights, uncertainty weighting."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_mtl import TRAINING, make_dataset, read_outputs, train

from analysis.errors import StudyInputError
from analysis.mtl.losses import build_loss_combiner

LOSSES = {"a": torch.tensor(2.0), "b": torch.tensor(0.5)}


def test_sum_is_the_default() -> None:
    assert build_loss_combiner("sum")(LOSSES).item() == pytest.approx(2.5)


def test_fixed_weights_by_task_and_default() -> None:
    combiner = build_loss_combiner("weighted", ["a", "b"], {"a": 0.25, "default": 2.0})
    assert combiner(LOSSES).item() == pytest.approx(0.25 * 2.0 + 2.0 * 0.5)
    assert combiner({"b": LOSSES["b"]}).item() == pytest.approx(1.0)  # masked task: absent
    plain = build_loss_combiner("weighted", ["a", "b"], {})
    assert plain(LOSSES).item() == pytest.approx(2.5)


def test_negative_weight_is_an_error() -> None:
    with pytest.raises(StudyInputError, match="training.loss_weights.a"):
        build_loss_combiner("weighted", ["a"], {"a": -1})


def test_unknown_combination_is_an_error() -> None:
    with pytest.raises(StudyInputError, match="training.loss_weighting 'max'"):
        build_loss_combiner("max", ["a"])


def test_uncertainty_weighting_follows_kendall() -> None:
    combiner = build_loss_combiner("uncertainty", ["b", "a"])
    assert combiner(LOSSES).item() == pytest.approx(2.5 / 2)  # log-variances start at 0
    with torch.no_grad():
        combiner.log_variance.copy_(torch.tensor([math.log(4.0), 0.0]))  # tasks sorted: a, b
    expected = 2.0 / (2 * 4.0) + math.log(4.0) / 2 + 0.5 / 2
    assert combiner(LOSSES).item() == pytest.approx(expected)
    total = combiner(LOSSES)
    total.backward()
    assert combiner.log_variance.grad is not None


def test_training_with_each_combination(tmp_path: Path) -> None:
    make_dataset(tmp_path, "alpha", 60, {"word": 3}, seed=1)
    make_dataset(tmp_path, "beta", 48, {"scene": 3}, seed=2)
    tasks = ["alpha_word", "beta_scene"]
    curves = {}
    for name, extra in {
        "sum": {},
        "weighted": {"loss_weights": {"alpha_word": 1.0, "beta_scene": 0.0}},
        "uncertainty": {},
    }.items():
        training = dict(TRAINING, loss_weighting=name, **extra)
        tables = read_outputs(train(tmp_path, tasks, tmp_path / name, training=training))
        curves[name] = tables["curve"]
        assert tables["metrics"]["value"].notna().any()
    assert not curves["sum"].equals(curves["uncertainty"])
    # a weight of 0: beta_scene's head never learns, so its loss stays where it started
    beta = curves["weighted"].query("task == 'beta_scene' and fold == 0")["loss"]
    alpha = curves["weighted"].query("task == 'alpha_word' and fold == 0")["loss"]
    assert alpha.tail(3).mean() < alpha.head(3).mean()
    assert abs(beta.tail(3).mean() - beta.head(3).mean()) < abs(
        alpha.tail(3).mean() - alpha.head(3).mean()
    )
    pd.testing.assert_frame_equal(
        curves["sum"], read_outputs(train(tmp_path, tasks, tmp_path / "again"))["curve"]
    )
