"""Preparation of frame-based features to fixed-size rows, and the clip index beside the features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from analysis.corpora.audio import load_audio
from analysis.errors import StudyInputError
from analysis.features.extract import extract_features, feature_settings
from analysis.features.extractors import (
    frames_for_samples,
    logmel_patches,
    mfcc,
    resolve_logmel,
    samples_for_frames,
)
from analysis.features.preparation import n_windows, resolve_preparation, window_frames

RATE = 16000
PARAMS = {"n_mels": 8}  # small and fast; 25 ms windows (n_fft 512), 10 ms hop (160 samples)
#: Frames of each test clip: long, shorter than one window, a little over one window.
CLIP_FRAMES = (30, 4, 12)


def samples(frames: int) -> int:
    return (frames - 1) * 160 + 512


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    paths = []
    for i, frames in enumerate(CLIP_FRAMES):
        path = tmp_path / "audio" / f"clip{i}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, (0.2 * rng.standard_normal(samples(frames))).astype(np.float32), RATE)
        paths.append(str(path))
    table = pd.DataFrame(
        {"clip_id": [Path(p).name for p in paths], "path": paths,
         "duration_s": [samples(f) / RATE for f in CLIP_FRAMES]}
    )
    table.to_parquet(tmp_path / "manifest.parquet")
    return tmp_path / "manifest.parquet"


def run(manifest: Path, preparation: dict | None, extractor: str = "logmel_patches",
        params: dict | None = None, threads: int = 1, name: str = "f") -> tuple[np.ndarray, np.ndarray, dict]:
    out = manifest.parent / "features" / f"{name}.npy"
    extract_features(
        str(manifest), str(out), str(out.with_suffix(".json")), extractor, PARAMS if params is None else params,
        RATE, preparation=preparation, threads=threads, progress=False,
    )
    info = json.loads(out.with_suffix(".json").read_text())
    return np.load(out, mmap_mode="r"), np.load(out.with_name(f"{name}.clips.npy")), info


def clip_frames(manifest: Path, index: int) -> np.ndarray:
    """All frames of clip `index`, straight from the extractor."""
    signal = load_audio(pd.read_parquet(manifest)["path"][index], RATE)
    return logmel_patches(signal, RATE, resolve_logmel(PARAMS, RATE))


# Resolving features.preparation -----------------------------------------------------------------------


def test_preparation_defaults_and_idempotence() -> None:
    assert resolve_preparation(None) == {"mode": "window", "frames": 96, "hop": 48}
    assert resolve_preparation({"mode": "window", "frames": 10}) == {"mode": "window", "frames": 10, "hop": 5}
    assert resolve_preparation({"mode": "fixed", "seconds": 2}) == {"mode": "fixed", "seconds": 2.0}
    assert resolve_preparation({"mode": "median"}) == {"mode": "median"}
    for prep in ({"mode": "fixed", "frames": 50}, {"mode": "window", "frames": 20, "hop": 7}):
        assert resolve_preparation(resolve_preparation(prep)) == resolve_preparation(prep)
    # A summary extractor has no preparation: changing it does not change its job's params.
    assert feature_settings("logfbank_summary", {}, {"mode": "median"}, RATE)["preparation"] is None


@pytest.mark.parametrize(
    ("prep", "message"),
    [
        ({"mode": "crop"}, r"features.preparation.mode must be one of"),
        ({"mode": "window", "frames": 0}, r"features.preparation.frames must be a whole number >= 1"),
        ({"mode": "window", "hop": 2.5}, r"features.preparation.hop must be a whole number"),
        ({"mode": "window", "seconds": 1}, r"features.preparation: \['seconds'\] not used by mode 'window'"),
        ({"mode": "fixed"}, r"features.preparation: mode 'fixed' needs exactly one of `frames` or `seconds`"),
        ({"mode": "fixed", "frames": 5, "seconds": 1}, r"needs exactly one of"),
        ({"mode": "fixed", "seconds": -1}, r"features.preparation.seconds must be a number > 0"),
        ({"mode": "fixed", "frames": 5, "hop": 2}, r"\['hop'\] not used by mode 'fixed'"),
        ({"mode": "median", "frames": 5}, r"\['frames'\] not used by mode 'median'"),
    ],
)
def test_preparation_checked(prep: dict, message: str) -> None:
    with pytest.raises(StudyInputError, match=message):
        feature_settings("mfcc", {}, prep, RATE)


def test_window_frames_by_hand() -> None:
    frames = np.arange(11 * 2, dtype=np.float32).reshape(11, 2)  # frame t holds (2t, 2t + 1)
    windows = window_frames(frames, size=4, hop=3)
    assert windows.shape == (3, 4, 2) == (n_windows(11, 4, 3), 4, 2)
    np.testing.assert_array_equal(windows[1], frames[3:7])
    np.testing.assert_array_equal(windows[2], frames[6:10])  # frame 10 is past the last whole window
    assert windows.flags.c_contiguous
    assert n_windows(2, 4, 3) == 1  # a short clip is padded to one window


def test_frame_arithmetic_round_trips() -> None:
    params = resolve_logmel({}, RATE)
    for frames in (1, 2, 96, 1000):
        assert frames_for_samples(samples_for_frames(frames, params, RATE), params, RATE) == frames
    assert frames_for_samples(RATE, params, RATE) == 97  # one second, 25 ms windows, 10 ms hop
    assert frames_for_samples(3, params, RATE) == 1


# Preparation modes, end to end -------------------------------------------------------------------------


def test_window_mode_counts_windows_and_maps_them_to_clips(manifest: Path) -> None:
    features, clips, info = run(manifest, {"mode": "window", "frames": 10, "hop": 5})
    # clip 0: 30 frames -> 1 + (30 - 10) // 5 = 5 windows; clip 1 (4 frames) padded to 1; clip 2: 1.
    assert features.shape == (7, 10, 8) and features.dtype == np.float32
    assert clips.dtype == np.int64 and clips.tolist() == [0, 0, 0, 0, 0, 1, 2]
    assert info["n_rows"] == 7 and info["n_clips"] == 3 and info["shape"] == [7, 10, 8]
    assert info["preparation"] == {"mode": "window", "frames": 10, "hop": 5}
    assert (info["row_frames"], info["row_hop"]) == (10, 5)

    whole = clip_frames(manifest, 0)
    assert whole.shape == (30, 8)
    for k in range(5):
        np.testing.assert_allclose(features[k], whole[5 * k : 5 * k + 10], rtol=1e-6, atol=1e-6)
    # The short clip: its own 4 frames, then frames of silence (log of the floor).
    np.testing.assert_allclose(features[5, :4], clip_frames(manifest, 1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(features[5, 7:], np.log(1e-3), rtol=1e-6)


def test_fixed_mode_cuts_and_pads(manifest: Path) -> None:
    features, clips, info = run(manifest, {"mode": "fixed", "frames": 12})
    assert features.shape == (3, 12, 8) and clips.tolist() == [0, 1, 2]
    np.testing.assert_allclose(features[0], clip_frames(manifest, 0)[:12], rtol=1e-6, atol=1e-6)  # cut
    np.testing.assert_allclose(features[2], clip_frames(manifest, 2), rtol=1e-6, atol=1e-6)  # exact
    np.testing.assert_allclose(features[1, :4], clip_frames(manifest, 1), rtol=1e-6, atol=1e-6)  # padded
    np.testing.assert_allclose(features[1, 7:], np.log(1e-3), rtol=1e-6)

    by_seconds, _, info = run(manifest, {"mode": "fixed", "seconds": 0.2}, name="s")
    assert by_seconds.shape == (3, 17, 8) and info["row_frames"] == 17  # 3200 samples: 1 + 2688 // 160


def test_median_mode_uses_the_median_clip_length(manifest: Path) -> None:
    features, clips, info = run(manifest, {"mode": "median"})
    assert info["row_frames"] == 12 == int(np.median(CLIP_FRAMES))
    assert features.shape == (3, 12, 8) and clips.tolist() == [0, 1, 2]
    # Without `duration_s` in the manifest the durations come from the file headers: same result.
    table = pd.read_parquet(manifest).drop(columns="duration_s")
    table.to_parquet(manifest)
    again, _, _ = run(manifest, {"mode": "median"}, name="g")
    np.testing.assert_array_equal(again, features)


def test_mfcc_windows_identical_with_two_threads(manifest: Path) -> None:
    prep = {"mode": "window", "frames": 8, "hop": 3}
    one, clips_one, _ = run(manifest, prep, "mfcc", {"n_mfcc": 6, "n_mels": 16}, threads=1, name="one")
    two, clips_two, info = run(manifest, prep, "mfcc", {"n_mfcc": 6, "n_mels": 16}, threads=2, name="two")
    assert one.shape == (1 + (30 - 8) // 3 + 1 + 2, 8, 18)  # clip 2 (12 frames): 2 windows
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(clips_one, clips_two)
    assert info["feature_names"][6] == "delta_mfcc_00"
    # Deltas of a window use the frames around it in the whole clip.
    signal = load_audio(pd.read_parquet(manifest)["path"][0], RATE)
    whole = mfcc(signal, RATE, feature_settings("mfcc", {"n_mfcc": 6, "n_mels": 16}, None, RATE)["params"])
    np.testing.assert_allclose(one[2], whole[6:14], rtol=1e-5, atol=1e-5)
