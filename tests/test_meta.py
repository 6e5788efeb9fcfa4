"""Task features (dataset, information-theoretic, learning-curve) on hand-computed cases."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.meta.dataset import dataset_features, labelled_clips
from analysis.meta.information import label_counts, label_entropy, label_kurtosis
from analysis.meta.learning_curve import (
    curve_features,
    curve_gradients,
    fit_log_curve,
    mean_curve,
    percent_index,
)
from analysis.meta.task_features import write_task_features


def manifest() -> pd.DataFrame:
    """Seven clips; `word` labels five of them (a a a b c), `speaker` labels all seven."""
    return pd.DataFrame({
        "clip_id": [f"c{i}" for i in range(7)],
        "path": [f"/audio/c{i}.wav" for i in range(7)],
        "duration_s": [1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0],
        "sample_rate": [16000, 16000, 22050, 44100, 16000, 8000, 8000],
        "channels": [1] * 7,
        "word": ["a", "a", "a", "b", "c", "", None],
        "speaker": ["s1", "s2", "s1", "s2", "s1", "s2", "s1"],
    })


def curve_rows(task: str, steps: np.ndarray, loss: np.ndarray, fold: int = 0,
               seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"task": task, "fold": fold, "seed": seed, "step": steps, "loss": loss})


def test_labelled_clips_leave_out_missing_and_empty_labels() -> None:
    clips = labelled_clips(manifest(), "word")
    assert list(clips["clip_id"]) == ["c0", "c1", "c2", "c3", "c4"]


def test_dataset_features_by_hand() -> None:
    features = dataset_features(labelled_clips(manifest(), "word"), "word")
    assert features == {"n_labels": 3.0, "n_clips": 5.0, "type_token_ratio": 0.6,
                        "total_duration_s": 15.0, "mean_duration_s": 3.0, "sample_rate": 16000.0}


def test_missing_label_column_names_it() -> None:
    with pytest.raises(StudyInputError, match="emotion"):
        labelled_clips(manifest(), "emotion")


def test_label_without_any_clip_is_an_error() -> None:
    table = manifest().assign(word="")
    with pytest.raises(StudyInputError, match="no labelled clip"):
        labelled_clips(table, "word")


def test_label_entropy_in_bits() -> None:
    # p = (0.6, 0.2, 0.2): H = -(0.6 log2 0.6 + 2 * 0.2 log2 0.2)
    expected = -(0.6 * math.log2(0.6) + 2 * 0.2 * math.log2(0.2))
    assert label_entropy(np.array([3.0, 1.0, 1.0])) == pytest.approx(expected)
    assert label_entropy(np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert label_entropy(np.array([5.0, 5.0, 5.0, 5.0])) == pytest.approx(2.0)
    assert label_entropy(np.array([7.0])) == 0.0


def test_label_kurtosis_by_hand() -> None:
    # counts (3, 1, 1): mean 5/3, m2 = 8/9, m4 = 32/27, Fisher kurtosis = m4 / m2**2 - 3 = -1.5
    counts = label_counts(labelled_clips(manifest(), "word")["word"])
    assert list(counts) == [3.0, 1.0, 1.0]
    assert label_kurtosis(counts) == pytest.approx(-1.5)


def test_label_kurtosis_of_a_balanced_task_is_nan() -> None:
    assert math.isnan(label_kurtosis(np.array([4.0, 4.0, 4.0])))
    assert math.isnan(label_kurtosis(np.array([4.0])))


def test_percent_index_rounds_half_up() -> None:
    assert [percent_index(11, p) for p in (10, 20, 30, 50, 70)] == [1, 2, 3, 5, 7]
    assert percent_index(6, 10) == 1  # 0.5 rounds up
    assert percent_index(2, 70) == 1


def test_curve_gradients_of_a_parabola() -> None:
    # loss = step**2 on steps 0..10: central difference at interior step s is exactly 2 s.
    steps = np.arange(11)
    curve = pd.Series(steps.astype(float) ** 2, index=steps)
    assert curve_gradients(curve) == {"curve_grad_10": 2.0, "curve_grad_20": 4.0,
                                      "curve_grad_30": 6.0, "curve_grad_50": 10.0,
                                      "curve_grad_70": 14.0}


def test_gradients_use_the_step_spacing() -> None:
    steps = np.arange(0, 110, 10)  # logged every 10 steps: slope is per step
    curve = pd.Series(3.0 - 0.01 * steps, index=steps)
    assert curve_gradients(curve)["curve_grad_50"] == pytest.approx(-0.01)


def test_mean_curve_averages_folds_and_seeds() -> None:
    steps = np.arange(5)
    curves = pd.concat([curve_rows("t", steps, steps ** 2 + 1.0, fold=0),
                        curve_rows("t", steps, steps ** 2 - 1.0, fold=1, seed=3)])
    assert list(mean_curve(curves)) == [0.0, 1.0, 4.0, 9.0, 16.0]


def test_log_fit_recovers_known_a_and_c() -> None:
    steps = np.arange(1, 301)
    loss = -0.8 * np.log(0.05 * steps + 1.0) + 2.5
    fitted = fit_log_curve(pd.Series(loss, index=steps))
    assert fitted["curve_fit_a"] == pytest.approx(-0.8, rel=1e-4)
    assert fitted["curve_fit_c"] == pytest.approx(0.05, rel=1e-4)


def test_log_fit_recovers_a_slow_decay() -> None:
    steps = np.arange(0, 2000, 10)
    loss = -0.3 * np.log(0.002 * steps + 1.0) + 1.0
    fitted = fit_log_curve(pd.Series(loss, index=steps))
    assert fitted["curve_fit_a"] == pytest.approx(-0.3, rel=1e-3)
    assert fitted["curve_fit_c"] == pytest.approx(0.002, rel=1e-3)


def test_log_fit_that_does_not_converge_gives_nan_and_a_warning(caplog) -> None:
    steps = np.arange(1, 101)
    # c = 0.0333 is not on the start grid, so one function evaluation cannot reach the optimum.
    curve = pd.Series(-0.5 * np.log(0.0333 * steps + 1.0) + 2.0, index=steps)
    with caplog.at_level(logging.WARNING):
        fitted = fit_log_curve(curve, max_nfev=1)
    assert math.isnan(fitted["curve_fit_a"]) and math.isnan(fitted["curve_fit_c"])
    assert "did not converge" in caplog.text


def test_too_short_curve_gives_nan_features(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        features = curve_features(curve_rows("t", np.array([0]), np.array([1.0])))
    assert all(math.isnan(value) for value in features.values())
    assert len(features) == 7
    assert "cannot be fitted" in caplog.text


def write_inputs(tmp_path) -> tuple[dict, dict, str]:
    manifest_path = tmp_path / "manifest.parquet"
    write_table(manifest(), manifest_path)
    steps = np.arange(1, 101)
    curves = pd.concat([
        curve_rows("word", steps, -0.5 * np.log(0.1 * steps + 1.0) + 2.0),
        curve_rows("speaker", steps, -0.2 * np.log(0.02 * steps + 1.0) + 1.0),
    ])
    curves_path = tmp_path / "curves.parquet"
    write_table(curves, curves_path)
    tasks = {"word": {"dataset": "demo", "label": "word"},
             "speaker": {"dataset": "demo", "label": "speaker"}}
    return tasks, {"demo": str(manifest_path)}, str(curves_path)


def test_write_task_features_one_row_per_task(tmp_path) -> None:
    tasks, manifests, curves_path = write_inputs(tmp_path)
    out = tmp_path / "study" / "task_features.parquet"
    write_task_features(tasks, manifests, curves_path, str(out))
    table = read_table(out).set_index("task")
    assert sorted(table.index) == ["speaker", "word"]
    assert list(table.columns) == [
        "n_labels", "n_clips", "type_token_ratio", "total_duration_s", "mean_duration_s",
        "sample_rate", "label_entropy", "label_kurtosis", "curve_grad_10", "curve_grad_20",
        "curve_grad_30", "curve_grad_50", "curve_grad_70", "curve_fit_a", "curve_fit_c"]
    assert all(pd.api.types.is_float_dtype(table[column]) for column in table.columns)
    assert table.loc["speaker", "n_clips"] == 7
    assert table.loc["speaker", "label_entropy"] == pytest.approx(
        -(4 / 7 * math.log2(4 / 7) + 3 / 7 * math.log2(3 / 7)))
    assert table.loc["word", "curve_fit_c"] == pytest.approx(0.1, rel=1e-4)
    assert table.loc["speaker", "curve_fit_a"] == pytest.approx(-0.2, rel=1e-4)


def test_task_without_curve_is_an_error(tmp_path) -> None:
    tasks, manifests, curves_path = write_inputs(tmp_path)
    tasks["word2"] = {"dataset": "demo", "label": "word"}
    with pytest.raises(StudyInputError, match="word2"):
        write_task_features(tasks, manifests, curves_path, str(tmp_path / "out.parquet"))
    assert not (tmp_path / "out.parquet").exists()


def test_dataset_without_manifest_is_an_error(tmp_path) -> None:
    tasks, _, curves_path = write_inputs(tmp_path)
    with pytest.raises(StudyInputError, match="demo"):
        write_task_features(tasks, {}, curves_path, str(tmp_path / "out.parquet"))
