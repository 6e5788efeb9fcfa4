"""Audio loading and feature extraction."""

from __future__ import annotations

import json
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy.signal import get_window

from analysis.corpora.audio import load_audio
from analysis.errors import StudyInputError
from analysis.features.extract import extract_features
from analysis.features.extractors import (
    SUMMARY_STATS,
    geometry,
    get_extractor,
    logfbank_summary,
    resolve_logfbank,
    summarise_frames,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tone(freq: float, seconds: float, sample_rate: int) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(signal: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal))
    return float(np.fft.rfftfreq(len(signal), 1 / sample_rate)[np.argmax(spectrum)])


# load_audio ----------------------------------------------------------------------------------------


def test_load_audio_resamples(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, tone(440, 1.0, 8000), 8000)
    signal = load_audio(str(path), 16000)
    assert signal.dtype == np.float32 and signal.ndim == 1
    assert len(signal) == 16000
    assert peak_hz(signal, 16000) == pytest.approx(440, abs=2)
    same = load_audio(str(path), 8000)
    np.testing.assert_allclose(same, sf.read(path, dtype="float32")[0])


def test_load_audio_mixes_stereo_to_mono(tmp_path: Path) -> None:
    left, right = tone(300, 0.25, 16000), 0.5 * tone(1000, 0.25, 16000)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="PCM_24")
    signal = load_audio(str(path), 16000)
    np.testing.assert_allclose(signal, (left + right) / 2, atol=1e-5)


def test_load_audio_reads_ogg(tmp_path: Path) -> None:
    path = tmp_path / "tone.ogg"
    sf.write(path, tone(1000, 0.5, 44100), 44100, format="OGG", subtype="VORBIS")
    signal = load_audio(str(path), 16000)
    assert abs(len(signal) - 8000) <= 1
    assert peak_hz(signal, 16000) == pytest.approx(1000, abs=3)


def test_load_audio_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    with pytest.raises(StudyInputError, match="broken.wav: cannot read"):
        load_audio(str(broken), 16000)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(StudyInputError, match="empty.wav: the audio file is empty"):
        load_audio(str(empty), 16000)


# logfbank_summary ----------------------------------------------------------------------------------


def test_summarise_frames_by_hand() -> None:
    frames = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 8.0]]).T  # (frames, bands)
    expected = {
        "mean": [2.5, 2.0],
        "std": [np.sqrt(1.25), np.sqrt(12.0)],
        "min": [1.0, 0.0],
        "max": [4.0, 8.0],
        "median": [2.5, 0.0],
        "p25": [1.75, 0.0],
        "p75": [3.25, 2.0],
    }
    summary = summarise_frames(frames)
    assert summary.dtype == np.float32 and summary.shape == (14,)
    np.testing.assert_allclose(summary, np.concatenate([expected[s] for s in SUMMARY_STATS]), rtol=1e-6)


def test_logfbank_summary_matches_hand_computation() -> None:
    sample_rate = 8000
    rng = np.random.default_rng(0)
    signal = (tone(440, 0.3, sample_rate) + 0.01 * rng.standard_normal(2400)).astype(np.float32)
    params = resolve_logfbank({"n_mels": 8, "win_ms": 32, "hop_ms": 16}, sample_rate)
    assert geometry(params, sample_rate) == (256, 128, 256) and params["fmax"] == 4000.0

    # Hand computation: hann frames, |FFT|^2, mel filter bank, natural log, statistics per band.
    window = get_window("hann", 256, fftbins=True)
    n_frames = 1 + (len(signal) - 256) // 128
    frames = np.stack([signal[i * 128 : i * 128 + 256] * window for i in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, bins)
    basis = librosa.filters.mel(sr=sample_rate, n_fft=256, n_mels=8, fmin=0.0, fmax=4000.0)
    log_mel = np.log(power @ basis.T + 1e-10).T  # (bands, frames)
    q25, q50, q75 = np.percentile(log_mel, [25, 50, 75], axis=1)
    expected = np.concatenate(
        [log_mel.mean(1), log_mel.std(1), log_mel.min(1), log_mel.max(1), q50, q25, q75]
    )

    features = logfbank_summary(signal, sample_rate, params)
    assert features.shape == (8 * 7,)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    # The 440 Hz tone dominates: the band holding it has the largest mean energy.
    centres = librosa.mel_frequencies(n_mels=8 + 2, fmin=0.0, fmax=4000.0)[1:-1]
    assert abs(centres[np.argmax(features[:8])] - 440) < 400


def test_logfbank_params_resolved_and_checked() -> None:
    params = resolve_logfbank({}, 16000)
    assert params["n_mels"] == 24 and params["fmax"] == 8000.0
    assert geometry(params, 16000) == (400, 160, 512)
    assert resolve_logfbank(params, 16000) == params  # resolving is idempotent (the rule's params)
    assert resolve_logfbank({"n_mels": 24, "win_ms": 25}, 16000) == params  # explicit defaults: same
    assert resolve_logfbank({"fmax": 20000}, 16000)["fmax"] == 8000.0
    with pytest.raises(StudyInputError, match="unknown parameter.*n_mel"):
        resolve_logfbank({"n_mel": 40}, 16000)
    with pytest.raises(StudyInputError, match="features.params.fmin"):
        resolve_logfbank({"fmin": 9000}, 16000)
    with pytest.raises(StudyInputError, match="features.params.n_mels"):
        resolve_logfbank({"n_mels": 0}, 16000)
    with pytest.raises(StudyInputError, match="unknown extractor 'mfc'.*logfbank_summary"):
        get_extractor("mfc")


# extract_features ----------------------------------------------------------------------------------


def extract(manifest: Path, npy: Path, params: dict | None = None, threads: int = 1) -> None:
    """extract_features with the json beside the array, no progress bar."""
    extract_features(
        str(manifest), str(npy), str(npy.with_suffix(".json")), "logfbank_summary", params or {}, 16000,
        threads=threads, progress=False,
    )


@pytest.fixture
def small_manifest(tmp_path: Path) -> Path:
    """Twelve clips: mixed rates and lengths, one stereo, one shorter than a window."""
    rng = np.random.default_rng(1)
    paths = []
    for i in range(12):
        rate = (8000, 16000, 22050)[i % 3]
        n = int(rate * (0.2 + 0.05 * i))
        data = 0.1 * rng.standard_normal((n, 2 if i == 5 else 1)).astype(np.float32)
        if i == 7:
            data = data[:10]  # 10 samples: padded to one window
        path = tmp_path / "audio" / f"c{i:02d}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, data, rate)
        paths.append(str(path))
    manifest = pd.DataFrame({"clip_id": [Path(p).name for p in paths], "path": paths})
    manifest_path = tmp_path / "manifest.parquet"
    manifest.to_parquet(manifest_path)
    return manifest_path


def test_extract_features_shape_json_and_determinism(small_manifest: Path, tmp_path: Path) -> None:
    npy, meta = tmp_path / "f" / "ds.npy", tmp_path / "f" / "ds.json"
    extract(small_manifest, npy, {"n_mels": 24})
    features = np.load(npy, mmap_mode="r")
    assert features.shape == (12, 24 * 7) and features.dtype == np.float32
    assert np.isfinite(features).all()
    info = json.loads(meta.read_text())
    assert info["extractor"] == "logfbank_summary" and info["sample_rate"] == 16000
    assert info["n_clips"] == 12 and info["n_features"] == 168 and len(info["feature_names"]) == 168
    assert info["params"]["fmax"] == 8000.0 and info["params"]["hop_ms"] == 10.0
    assert info["feature_names"][0] == "logmel_mean_00" and info["feature_names"][-1] == "logmel_p75_23"

    # Row i is clip i of the manifest.
    clip3 = load_audio(str(pd.read_parquet(small_manifest)["path"][3]), 16000)
    np.testing.assert_array_equal(features[3], logfbank_summary(clip3, 16000, info["params"]))
    clips = np.load(npy.with_name("ds.clips.npy"))
    assert clips.dtype == np.int64 and clips.tolist() == list(range(12))  # one row per clip: identity
    assert info["kind"] == "summary" and info["preparation"] is None and info["n_rows"] == 12

    again = tmp_path / "again.npy"
    extract(small_manifest, again, {"n_mels": 24})
    np.testing.assert_array_equal(np.load(again), features)


def test_extract_features_threads_identical(
    small_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = []
    for threads in (1, 2):
        npy = tmp_path / f"t{threads}.npy"
        extract(small_manifest, npy, threads=threads)
        outs.append(np.load(npy))
    np.testing.assert_array_equal(outs[0], outs[1])
    capsys.readouterr()
    extract_features(
        str(small_manifest), str(tmp_path / "p.npy"), str(tmp_path / "p.json"), "logfbank_summary", {}, 16000,
        threads=2, progress=True,
    )
    assert "12/12" in capsys.readouterr().err  # the tqdm bar goes to stderr
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), outs[0])


def test_extract_features_bad_input(small_manifest: Path, tmp_path: Path) -> None:
    npy = tmp_path / "x.npy"
    with pytest.raises(StudyInputError, match="unknown extractor"):
        extract_features(str(small_manifest), str(npy), str(tmp_path / "x.json"), "mfcc2", {}, 16000, progress=False)
    table = pd.read_parquet(small_manifest)
    broken = tmp_path / "audio" / "broken.wav"
    broken.write_bytes(b"garbage")
    pd.concat([table, pd.DataFrame({"clip_id": ["broken.wav"], "path": [str(broken)]})]).to_parquet(small_manifest)
    with pytest.raises(StudyInputError, match="broken.wav"):
        extract(small_manifest, npy, threads=2)
    assert not npy.exists() and not npy.with_name("x.clips.npy").exists()


def test_extract_features_real_fsdd(tmp_path: Path) -> None:
    recordings = SHARED_DATA / "fsdd" / "recordings"
    if not recordings.is_dir():
        pytest.skip(f"real test corpora not found at {SHARED_DATA} (a fresh clone has no ../shared/data)")
    paths = [str(recordings / f"{d}_jackson_0.wav") for d in range(10)]
    manifest = tmp_path / "m.parquet"
    pd.DataFrame({"clip_id": [Path(p).name for p in paths], "path": paths}).to_parquet(manifest)
    extract(manifest, tmp_path / "f.npy")
    features = np.load(tmp_path / "f.npy")
    assert features.shape == (10, 168) and np.isfinite(features).all()
    assert len(np.unique(features[:, :24], axis=0)) == 10  # ten different recordings, ten different vectors
