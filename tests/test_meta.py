"""Task features (dataset, information-theoretic, learning-curve) on hand-computed cases."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
from study_data import SAMPLE_RATE, write_manifest_dataset

from analysis.corpora.tasks import TaskSpec, task_labels
from analysis.errors import StudyInputError
from analysis.io import read_table, write_table
from analysis.meta.audio import frame_powers, snr_estimate, write_audio_stats
from analysis.meta.dataset import (
    audio_features,
    dataset_features,
    dataset_size,
    label_tokens,
    labelled_clips,
)
from analysis.meta.information import (
    information_features,
    label_counts,
    label_entropy,
    label_imbalance_ratio,
    label_kurtosis,
    label_norm_entropy,
)
from analysis.meta.learning_curve import (
    bs_curve_gradients,
    bs_fit_log_curve,
    curve_features,
    curve_gradients,
    fit_log_curve,
    mean_curve,
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


def word_clips(table: pd.DataFrame | None = None, **options) -> pd.DataFrame:
    table = manifest() if table is None else table
    spec = TaskSpec.from_config("word", {"dataset": "demo", "label": "word", **options})
    return labelled_clips(table, task_labels(table, spec), "word")


def test_labelled_clips_leave_out_missing_and_empty_labels() -> None:
    assert list(word_clips()["clip_id"]) == ["c0", "c1", "c2", "c3", "c4"]


def test_dataset_features_by_hand() -> None:
    clips = word_clips()
    features = dataset_features(clips, label_tokens(clips["label"], multilabel=False))
    # 10 ms frames: 100 + 200 + 300 + 400 + 500
    assert features == {"n_labels": 3.0, "n_clips": 5.0, "n_labelled_frames": 1500.0,
                        "type_token_ratio": 0.6}


def test_labelled_frames_count_whole_frames() -> None:
    table = manifest().assign(duration_s=[0.015, 0.29, 0.3, 1.0, 0.0049, 1.0, 1.0])
    clips = word_clips(table)
    frames = dataset_features(clips, label_tokens(clips["label"], False))["n_labelled_frames"]
    assert frames == 1 + 29 + 30 + 100 + 0


def test_multilabel_tokens_and_type_token_ratio() -> None:
    # clips: 'a;b', 'a', 'b;c', 'a' -> tokens a a a b b c: 3 types over 6 tokens
    table = manifest().assign(word=["a;b", "a", "c;b", "a", None, None, ""])
    clips = word_clips(table, type="multilabel")
    tokens = label_tokens(clips["label"], multilabel=True)
    assert sorted(tokens) == ["a", "a", "a", "b", "b", "c"]
    features = dataset_features(clips, tokens)
    assert features["n_labels"] == 3.0 and features["n_clips"] == 4.0
    assert features["type_token_ratio"] == pytest.approx(0.5)
    assert information_features(tokens)["label_entropy"] == pytest.approx(
        -(0.5 * math.log2(0.5) + 1 / 3 * math.log2(1 / 3) + 1 / 6 * math.log2(1 / 6)))


def test_dataset_size_and_audio_features_by_hand() -> None:
    stats = pd.DataFrame({"clip_id": [f"c{i}" for i in range(7)], "bytes": [100.0] * 7,
                          "snr_db": [10.0, 20.0, 30.0, 40.0, 50.0, -5.0, -5.0]})
    size = dataset_size(manifest(), stats)
    assert size == {"dataset_clips": 7.0, "dataset_hours": pytest.approx(45 / 3600),
                    "dataset_bytes": 700.0}
    audio = audio_features(word_clips(), stats)
    assert audio == {"mean_duration_s": 3.0, "total_duration_s": 15.0, "sample_rate": 16000.0,
                     "channels": 1.0, "snr_db": 30.0}  # median over the five labelled clips
    assert math.isnan(audio_features(word_clips(), None)["snr_db"])


def test_missing_label_column_names_it() -> None:
    with pytest.raises(StudyInputError, match="emotion"):
        spec = TaskSpec.from_config("emo", {"dataset": "demo", "label": "emotion"})
        labelled_clips(manifest(), task_labels(manifest(), spec), "emo")


def test_label_without_any_clip_is_an_error() -> None:
    with pytest.raises(StudyInputError, match="no labelled clip"):
        word_clips(manifest().assign(word=""))


# --- audio statistics ----------------------------------------------------------------------------

def bursts_in_noise(snr_db: float, seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """White noise throughout, a 1 kHz tone in alternate 100 ms blocks at `snr_db` over the noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    noise_power = 1e-3
    amplitude = math.sqrt(2 * noise_power * 10 ** (snr_db / 10))  # tone power = amplitude**2 / 2
    on = (np.floor(t / 0.1) % 2 == 0)
    return amplitude * np.sin(2 * np.pi * 1000 * t) * on + math.sqrt(noise_power) * rng.standard_normal(t.size)


def test_frame_powers_of_a_constant_signal() -> None:
    powers = frame_powers(np.full(SAMPLE_RATE, 0.5), SAMPLE_RATE)  # 1 s: 25 ms frames, 10 ms hop
    assert len(powers) == 1 + (SAMPLE_RATE - 200) // 80
    assert np.allclose(powers, 0.25)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_snr_estimate_of_a_signal_with_known_snr(snr_db) -> None:
    estimate = snr_estimate(bursts_in_noise(snr_db), SAMPLE_RATE)
    # The 10th percentile of noisy frame powers is a little below the noise power: the estimate
    # reads about 1 dB high at 0 dB (documented in analysis.meta.audio), less at higher SNR.
    assert estimate["snr_db"] == pytest.approx(snr_db, abs=1.5 if snr_db < 5 else 1.0)
    assert estimate["noise_db"] == pytest.approx(-30.0, abs=1.0)


def test_snr_estimate_of_silence_is_finite() -> None:
    estimate = snr_estimate(np.zeros(4000), SAMPLE_RATE)
    assert estimate["snr_db"] == 0.0 and estimate["rms_db"] == -100.0


def test_write_audio_stats_reads_every_clip(tmp_path) -> None:
    clips = [bursts_in_noise(10.0, 1.0, seed) for seed in range(2)] + [bursts_in_noise(20.0, 1.0)]
    rows = [{"path": f"audio/{i}.wav", "label": "x"} for i in range(3)]
    folder = write_manifest_dataset(tmp_path / "d", rows, [c.astype(np.float32) for c in clips])
    table = pd.DataFrame({"clip_id": [r["path"] for r in rows],
                          "path": [str(folder / r["path"]) for r in rows],
                          "sample_rate": SAMPLE_RATE})
    write_table(table, tmp_path / "manifest.parquet")
    write_audio_stats(str(tmp_path / "manifest.parquet"), str(tmp_path / "stats.parquet"))
    stats = read_table(tmp_path / "stats.parquet")
    assert list(stats.columns) == ["clip_id", "bytes", "rms_db", "noise_db", "snr_db"]
    assert list(stats["bytes"]) == [float((folder / r["path"]).stat().st_size) for r in rows]
    assert stats["snr_db"].tolist() == pytest.approx([10.0, 10.0, 20.0], abs=1.0)


def test_unreadable_audio_names_the_file(tmp_path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    table = pd.DataFrame({"clip_id": ["bad.wav"], "path": [str(tmp_path / "bad.wav")],
                          "sample_rate": [8000]})
    write_table(table, tmp_path / "manifest.parquet")
    with pytest.raises(StudyInputError, match="bad.wav"):
        write_audio_stats(str(tmp_path / "manifest.parquet"), str(tmp_path / "stats.parquet"))
    assert not (tmp_path / "stats.parquet").exists()


def test_label_entropy_in_bits() -> None:
    # p = (0.6, 0.2, 0.2): H = -(0.6 log2 0.6 + 2 * 0.2 log2 0.2)
    expected = -(0.6 * math.log2(0.6) + 2 * 0.2 * math.log2(0.2))
    assert label_entropy(np.array([3.0, 1.0, 1.0])) == pytest.approx(expected)
    assert label_entropy(np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert label_entropy(np.array([5.0, 5.0, 5.0, 5.0])) == pytest.approx(2.0)
    assert label_entropy(np.array([7.0])) == 0.0


def test_label_kurtosis_of_the_frequency_ordered_distribution_by_hand() -> None:
    # counts (3, 1, 1): ranks 1, 2, 3 with weights 0.6, 0.2, 0.2: mean 1.6, m2 = 0.64,
    # m4 = 0.6 * 0.6**4 + 0.2 * 0.4**4 + 0.2 * 1.4**4 = 0.8512, kurtosis = m4 / m2**2 - 3
    counts = label_counts(word_clips()["label"])
    assert list(counts) == [3.0, 1.0, 1.0]
    assert label_kurtosis(counts) == pytest.approx(0.8512 / 0.64 ** 2 - 3)
    assert label_kurtosis(np.array([1.0, 3.0, 1.0])) == label_kurtosis(counts)  # label order


@pytest.mark.parametrize("counts", [[4.0, 4.0], [9.0, 1.0], [1.0, 9.0], [4.0, 4.0, 4.0],
                                    [100.0, 1.0, 1.0, 1.0]])
def test_label_imbalance_features_are_finite_for_binary_and_balanced_tasks(counts) -> None:
    counts = np.array(counts)
    for feature in (label_kurtosis, label_norm_entropy, label_imbalance_ratio):
        assert math.isfinite(feature(counts)), feature.__name__


def test_label_imbalance_features_by_hand() -> None:
    # A Bernoulli(p) rank has kurtosis 1 / (p (1 - p)) - 6.
    assert label_kurtosis(np.array([5.0, 5.0])) == pytest.approx(-2.0)
    assert label_kurtosis(np.array([9.0, 1.0])) == pytest.approx(1 / 0.09 - 6)
    assert label_norm_entropy(np.array([4.0, 4.0, 4.0])) == pytest.approx(1.0)
    assert label_norm_entropy(np.array([9.0, 1.0])) == pytest.approx(
        -(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1)))
    assert label_imbalance_ratio(np.array([4.0, 4.0])) == 1.0
    assert label_imbalance_ratio(np.array([9.0, 3.0, 1.0])) == 9.0
    assert math.isnan(label_kurtosis(np.array([4.0]))) and math.isnan(label_norm_entropy(
        np.array([4.0])))


def test_curve_gradients_of_a_parabola() -> None:
    # loss = step**2 on steps 0..100: a least-squares line over a symmetric window around s has
    # slope exactly 2 s.
    steps = np.arange(101)
    curve = pd.Series(steps.astype(float) ** 2, index=steps)
    assert curve_gradients(curve) == pytest.approx({
        "curve_grad_10": 20.0, "curve_grad_20": 40.0, "curve_grad_30": 60.0,
        "curve_grad_50": 100.0, "curve_grad_70": 140.0})


def noisy_training_loss(rng: np.random.Generator, n_steps: int, runs: int) -> pd.DataFrame:
    """Per-step minibatch losses of `runs` runs: an exponential decay from 2.6 to 0.3 with time
    constant 40 % of training, and minibatch noise of standard deviation 0.15 (a few hundred
    clips per batch gives a noise of this size relative to the loss)."""
    steps = np.arange(n_steps)
    expected = 0.3 + 2.3 * np.exp(-steps / (0.4 * n_steps))
    return pd.concat([curve_rows("t", steps, expected + rng.normal(0, 0.15, n_steps), fold=run)
                      for run in range(runs)])


def test_smoothed_gradients_of_a_noisy_per_step_curve_have_the_right_sign() -> None:
    rng = np.random.default_rng(11)
    wrong_smoothed = wrong_published = 0
    for _ in range(20):
        features = curve_features(noisy_training_loss(rng, n_steps=2000, runs=5))
        wrong_smoothed += sum(features[f"curve_grad_{p}"] >= 0 for p in (10, 20, 30, 50, 70))
        wrong_published += sum(features[f"bs_curve_grad_{p}"] >= 0 for p in (10, 20, 30, 50, 70))
    assert wrong_smoothed == 0
    assert wrong_published > 20  # of 100: the unsmoothed central difference measures the noise


def test_published_gradients_are_central_differences_at_int_n_p() -> None:
    steps = np.arange(10, 210, 10)  # 20 logged points, every 10 steps as in their logs
    loss = (steps / 10.0) ** 2
    gradients = bs_curve_gradients(pd.Series(loss, index=steps))
    # i = int(20 * p): 2, 4, 6, 10, 14; (L[i+1] - L[i-1]) / 20 on L = (i + 1)**2
    assert gradients == pytest.approx({
        "bs_curve_grad_10": (16 - 4) / 20, "bs_curve_grad_20": (36 - 16) / 20,
        "bs_curve_grad_30": (64 - 36) / 20, "bs_curve_grad_50": (144 - 100) / 20,
        "bs_curve_grad_70": (256 - 196) / 20})


def test_published_gradient_index_is_their_floating_point_int_n_times_p() -> None:
    # Their int(len(xs) * 0.7) with 90 points is int(62.99999999999999) = 62, not 63.
    steps = np.arange(90.0)
    gradients = bs_curve_gradients(pd.Series(steps ** 2, index=steps))
    assert gradients["bs_curve_grad_70"] == pytest.approx(2 * 62)


def test_published_log_fit_uses_every_tenth_of_the_first_5000_points() -> None:
    steps = np.arange(10, 60010, 10)  # 6000 logged points
    loss = 0.5 - 0.4 * np.log(0.02 * steps + 1.5)
    loss[5000:] = 100.0  # beyond the part their code fits: must not matter
    fitted = bs_fit_log_curve(pd.Series(loss, index=steps))
    # a ln(c i + d) + b is identified only up to (c, d) -> (k c, k d); the start (1, 1, 1, 1)
    # decides which; the value of a is identified.
    assert fitted["bs_curve_fit_a"] == pytest.approx(-0.4, rel=1e-3)
    assert fitted["bs_curve_fit_c"] > 0


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
    assert len(features) == 14
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
    tasks["word"] |= {"exclude": ["c"]}  # a class variant: one clip fewer
    stats = pd.DataFrame({"clip_id": [f"c{i}" for i in range(7)], "bytes": [10.0] * 7,
                          "rms_db": -20.0, "noise_db": -40.0, "snr_db": [float(i) for i in range(7)]})
    write_table(stats, tmp_path / "stats.parquet")
    out, factors_out = tmp_path / "study" / "task_features.parquet", tmp_path / "factors.parquet"
    write_task_features(tasks, manifests, curves_path, str(out),
                        audio_stats={"demo": str(tmp_path / "stats.parquet")},
                        factors={"demo": {"domain": "speech"}}, factors_out=str(factors_out))
    table = read_table(out).set_index("task")
    assert sorted(table.index) == ["speaker", "word"]
    assert list(table.columns) == [
        "n_labels", "n_clips", "n_labelled_frames", "type_token_ratio", "dataset_clips",
        "dataset_hours", "dataset_bytes", "label_entropy", "label_norm_entropy",
        "label_imbalance_ratio", "label_kurtosis", "mean_duration_s", "total_duration_s",
        "sample_rate", "channels", "snr_db", "curve_grad_10", "curve_grad_20", "curve_grad_30",
        "curve_grad_50", "curve_grad_70", "curve_fit_a", "curve_fit_c", "bs_curve_grad_10",
        "bs_curve_grad_20", "bs_curve_grad_30", "bs_curve_grad_50", "bs_curve_grad_70",
        "bs_curve_fit_a", "bs_curve_fit_c"]
    assert all(pd.api.types.is_float_dtype(table[column]) for column in table.columns)
    assert table.loc["speaker", "n_clips"] == 7
    assert table.loc["word", "n_clips"] == 4 and table.loc["word", "n_labels"] == 2
    assert table.loc["word", "snr_db"] == 1.5  # median of clips c0..c3
    assert table.loc["word", "dataset_bytes"] == 70.0
    assert table.loc["speaker", "label_entropy"] == pytest.approx(
        -(4 / 7 * math.log2(4 / 7) + 3 / 7 * math.log2(3 / 7)))
    assert table.loc["word", "curve_fit_c"] == pytest.approx(0.1, rel=1e-4)
    assert table.loc["speaker", "curve_fit_a"] == pytest.approx(-0.2, rel=1e-4)
    factors = read_table(factors_out)
    assert list(factors.columns) == ["task", "dataset", "domain", "label_type", "task_type"]
    assert list(factors["domain"]) == ["speech", "speech"]
    assert factors["label_type"].isna().all()


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
