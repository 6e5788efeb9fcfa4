"""The frame-based extractors: logmel_patches and mfcc (values, shapes, names, parameter checks)."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
from scipy.signal import get_window

from analysis.errors import StudyInputError
from analysis.features.extract import feature_settings
from analysis.features.extractors import (
    EXTRACTORS,
    geometry,
    get_extractor,
    logmel_patches,
    mfcc,
    resolve_logmel,
    resolve_mfcc,
)

RATE = 16000


def noisy_tone(freq: float, seconds: float, sample_rate: int = RATE, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.01 * noise).astype(np.float32)


def hand_log_mel(signal: np.ndarray, sample_rate: int, win: int, hop: int, n_fft: int, n_mels: int,
                 fmin: float, fmax: float, floor: float) -> np.ndarray:
    """(frames, bands): hann window centred in n_fft, |rfft|^2, mel filter bank, log(x + floor)."""
    window = np.zeros(n_fft)
    start = (n_fft - win) // 2
    window[start : start + win] = get_window("hann", win, fftbins=True)
    n_frames = 1 + (len(signal) - n_fft) // hop
    frames = np.stack([signal[i * hop : i * hop + n_fft] * window for i in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    basis = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return np.log(power @ basis.T + floor)


def test_registry_lists_the_three_extractors() -> None:
    assert {name: spec.kind for name, spec in EXTRACTORS.items()} == {
        "logfbank_summary": "summary", "logmel_patches": "frames", "mfcc": "frames",
    }
    with pytest.raises(StudyInputError, match="features.extractor.*logmel_patches.*mfcc"):
        get_extractor("mel")


# logmel_patches -------------------------------------------------------------------------------------


def test_logmel_defaults_follow_tagliasacchi() -> None:
    params = resolve_logmel({}, RATE)
    assert params == {"n_mels": 64, "win_ms": 25.0, "hop_ms": 10.0, "fmin": 60.0, "fmax": 7800.0, "log_floor": 0.001}
    assert geometry(params, RATE) == (400, 160, 512)  # 25 ms windows, 10 ms hop at 16 kHz
    assert resolve_logmel(params, RATE) == params


def test_logmel_matches_hand_computation_and_librosa() -> None:
    signal = noisy_tone(1000, 0.5)
    params = resolve_logmel({}, RATE)
    frames = logmel_patches(signal, RATE, params)
    n_frames = 1 + (len(signal) - 512) // 160
    assert frames.shape == (n_frames, 64) and frames.dtype == np.float32

    expected = hand_log_mel(signal, RATE, 400, 160, 512, 64, 60.0, 7800.0, 0.001)
    np.testing.assert_allclose(frames, expected, rtol=1e-5, atol=1e-4)
    mel = librosa.feature.melspectrogram(
        y=signal, sr=RATE, n_fft=512, hop_length=160, win_length=400, center=False, n_mels=64, fmin=60, fmax=7800
    )
    np.testing.assert_allclose(frames, np.log(mel + 0.001).T, rtol=1e-4, atol=1e-3)

    # The band holding 1 kHz has the most energy; the result is deterministic.
    centres = librosa.mel_frequencies(n_mels=66, fmin=60, fmax=7800)[1:-1]
    assert abs(centres[np.argmax(frames.mean(axis=0))] - 1000) < 60
    np.testing.assert_array_equal(logmel_patches(signal, RATE, params), frames)


def test_logmel_short_signal_gives_one_frame_and_fmax_is_capped() -> None:
    params = resolve_logmel({}, 8000)
    assert params["fmax"] == 4000.0  # 7800 Hz is above the Nyquist rate of 8 kHz
    frames = logmel_patches(np.ones(10, dtype=np.float32), 8000, params)
    assert frames.shape == (1, 64) and np.isfinite(frames).all()


# mfcc --------------------------------------------------------------------------------------------------


def orthonormal_dct(x: np.ndarray, n_out: int) -> np.ndarray:
    """DCT-II with orthonormal scaling along the last axis, written out."""
    n = x.shape[-1]
    k, m = np.arange(n_out)[:, None], np.arange(n)[None, :]
    basis = np.cos(np.pi * k * (2 * m + 1) / (2 * n)) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return x @ basis.T


def htk_deltas(c: np.ndarray, theta: int) -> np.ndarray:
    """HTK regression deltas over +-theta frames, edge frames repeated: (frames, coefficients)."""
    padded = np.concatenate([np.repeat(c[:1], theta, 0), c, np.repeat(c[-1:], theta, 0)])
    n = len(c)
    numerator = sum(
        t * (padded[theta + t : theta + t + n] - padded[theta - t : theta - t + n]) for t in range(1, theta + 1)
    )
    return numerator / (2 * sum(t * t for t in range(1, theta + 1)))


def test_mfcc_matches_hand_computation() -> None:
    signal = noisy_tone(440, 0.4, seed=3) + noisy_tone(2500, 0.4, seed=4)
    params = resolve_mfcc({"n_mfcc": 13, "n_mels": 40}, RATE)
    features = mfcc(signal, RATE, params)
    n_frames = 1 + (len(signal) - 512) // 160
    assert features.shape == (n_frames, 39) and features.dtype == np.float32

    log_mel = hand_log_mel(signal, RATE, 400, 160, 512, 40, 0.0, 8000.0, 1e-10)
    coefficients = orthonormal_dct(log_mel, 13)
    np.testing.assert_allclose(features[:, :13], coefficients, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(features[:, 13:26], htk_deltas(coefficients, 4), rtol=1e-4, atol=1e-3)

    # Delta-deltas: the second derivative of a least-squares parabola through 9 frames (interior).
    for t in (4, n_frames // 2, n_frames - 5):
        window = coefficients[t - 4 : t + 5]
        curvature = np.polyfit(np.arange(-4, 5), window, 2)[0] * 2
        np.testing.assert_allclose(features[t, 26:], curvature, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(mfcc(signal, RATE, params), features)


def test_mfcc_delta_options_and_names() -> None:
    signal = noisy_tone(300, 0.3)
    settings = feature_settings("mfcc", {"deltas": 0, "n_mfcc": 20}, None, RATE)
    params = settings["params"]
    assert mfcc(signal, RATE, params).shape[1] == 20
    assert EXTRACTORS["mfcc"].feature_names(params)[-1] == "mfcc_19"
    params = resolve_mfcc({"deltas": 1, "delta_width": 3}, RATE)
    assert mfcc(signal, RATE, params).shape[1] == 26
    names = EXTRACTORS["mfcc"].feature_names(resolve_mfcc({}, RATE))
    assert names[:2] == ["mfcc_00", "mfcc_01"] and names[13] == "delta_mfcc_00" and names[-1] == "delta2_mfcc_12"
    # A clip shorter than the delta width still works (edge frames repeated).
    assert mfcc(signal[:1000], RATE, resolve_mfcc({}, RATE)).shape == (4, 39)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"n_mfcc": 50}, "features.params.n_mfcc"),
        ({"n_mfcc": 0}, "features.params.n_mfcc"),
        ({"deltas": 3}, "features.params.deltas"),
        ({"deltas": True}, "features.params.deltas"),
        ({"delta_width": 8}, "features.params.delta_width"),
        ({"delta_width": 1}, "features.params.delta_width"),
        ({"hop_ms": 0}, "features.params.hop_ms"),
        ({"fmin": 8000}, "features.params.fmin"),
        ({"n_fft": 1024}, "features.params: unknown parameter.*n_fft"),
    ],
)
def test_mfcc_params_checked(params: dict, field: str) -> None:
    with pytest.raises(StudyInputError, match=field):
        resolve_mfcc(params, RATE)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"n_mels": 2.5}, "features.params.n_mels"), ({"win_ms": -1}, "features.params.win_ms"),
     ({"log_floor": 0}, "features.params.log_floor"), ({"deltas": 1}, "unknown parameter.*deltas")],
)
def test_logmel_params_checked(params: dict, field: str) -> None:
    with pytest.raises(StudyInputError, match=field):
        resolve_logmel(params, RATE)
