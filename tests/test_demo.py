"""Tests of the embedded demo-corpus generator (analysis.corpora.demo)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from analysis.corpora import _demo_render, demo
from analysis.corpora._demo_specs import SPEAKERS
from analysis.errors import StudyInputError

HAS_ESPEAK = shutil.which("espeak-ng") is not None
HAS_FLUIDSYNTH = shutil.which("fluidsynth") is not None and _demo_render.SOUNDFONT.is_file()

NEEDS = {
    "words": (HAS_ESPEAK, "espeak-ng is not installed (Debian package espeak-ng)"),
    "numbers": (HAS_ESPEAK, "espeak-ng is not installed (Debian package espeak-ng)"),
    "notes": (HAS_FLUIDSYNTH, "fluidsynth or fluid-soundfont-gm is not installed"),
    "mixtures": (
        HAS_ESPEAK and HAS_FLUIDSYNTH,
        "espeak-ng, fluidsynth or fluid-soundfont-gm is not installed",
    ),
}
LABELS = {
    "words": ["word", "speaker", "gender"],
    "numbers": ["language", "number"],
    "notes": ["family", "pitch", "instrument"],
    "mixtures": ["class", "snr_db"],
}
BALANCED = {
    "words": ["word", "speaker", "gender"],
    "numbers": ["language", "number"],
    "notes": ["family", "pitch"],
    "mixtures": ["class", "snr_db"],
}
N_SMALL = 12
SAMPLE_RATE = 16000


def _kind_param(kind: str) -> pytest.param:
    available, reason = NEEDS[kind]
    return pytest.param(kind, marks=pytest.mark.skipif(not available, reason=reason))


KINDS = [_kind_param(kind) for kind in demo.DEMO_KINDS]


def _read_manifest(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "manifest.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each available kind rendered once with a small corpus; shared by the read-only tests."""
    roots = {}
    for kind in demo.DEMO_KINDS:
        if NEEDS[kind][0]:
            roots[kind] = tmp_path_factory.mktemp(kind)
            demo.generate_demo_corpus(kind, roots[kind], N_SMALL, seed=3, progress=False)
    return roots


@pytest.mark.parametrize("kind", KINDS)
def test_layout_and_manifest_columns(rendered: dict[str, Path], kind: str) -> None:
    root = rendered[kind]
    manifest = _read_manifest(root)
    assert list(manifest.columns) == ["path", *LABELS[kind]]
    assert len(manifest) == N_SMALL
    assert manifest["path"].str.fullmatch(r"audio/\d{5}\.wav").all()
    assert sorted(p.name for p in (root / "audio").iterdir()) == sorted(
        Path(p).name for p in manifest["path"]
    )
    assert sorted(p.name for p in root.iterdir()) == ["audio", "manifest.csv"]
    assert (manifest[LABELS[kind]] != "").all().all()


@pytest.mark.parametrize("kind", KINDS)
def test_audio_is_real(rendered: dict[str, Path], kind: str) -> None:
    root = rendered[kind]
    clips = []
    for path in _read_manifest(root)["path"]:
        info = sf.info(root / path)
        assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
        assert 0.5 <= info.duration <= 1.5
        audio, _ = sf.read(root / path)
        rms = np.sqrt(np.mean(audio**2))
        assert 0.01 < rms < 0.5, f"{path} has RMS {rms}"
        assert np.max(np.abs(audio)) < 1.0
        clips.append(audio)
    assert len({clip.tobytes() for clip in clips}) == len(clips), "clips are not all different"


@pytest.mark.parametrize("kind", demo.DEMO_KINDS)
@pytest.mark.parametrize("n_clips", [200, 240, 301])
def test_labels_balanced(kind: str, n_clips: int) -> None:
    specs = demo.clip_specs(kind, n_clips, seed=0)
    assert len(specs) == n_clips
    for label in BALANCED[kind]:
        counts = Counter(spec.labels[label] for spec in specs)
        assert min(counts.values()) >= 10, (label, counts)
        assert max(counts.values()) - min(counts.values()) <= 1, (label, counts)


def test_speakers_define_gender_and_both_genders_balanced() -> None:
    genders = Counter(speaker.gender for speaker in SPEAKERS)
    assert genders["male"] == genders["female"]
    specs = demo.clip_specs("words", 60, seed=1)
    by_speaker = {(spec.labels["speaker"], spec.labels["gender"]) for spec in specs}
    assert len(by_speaker) == len(SPEAKERS)


def test_mixture_snr_label_is_the_snr_used() -> None:
    for spec in demo.clip_specs("mixtures", 30, seed=2):
        assert spec.labels["snr_db"] == str(round(spec.snr_db))


def _tree_bytes(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic(rendered: dict[str, Path], tmp_path: Path, kind: str) -> None:
    demo.generate_demo_corpus(kind, tmp_path, N_SMALL, seed=3, progress=False)
    assert _tree_bytes(tmp_path) == _tree_bytes(rendered[kind])


@pytest.mark.skipif(not HAS_ESPEAK, reason=NEEDS["words"][1])
def test_seed_changes_the_corpus(rendered: dict[str, Path], tmp_path: Path) -> None:
    demo.generate_demo_corpus("words", tmp_path, N_SMALL, seed=4, progress=False)
    assert _tree_bytes(tmp_path) != _tree_bytes(rendered["words"])


def test_unknown_kind_errors(tmp_path: Path) -> None:
    with pytest.raises(StudyInputError, match="words, numbers, notes, mixtures"):
        demo.generate_demo_corpus("birdsong", tmp_path / "out", 10, seed=0)
    assert not (tmp_path / "out").exists()


def test_bad_clip_count_errors(tmp_path: Path) -> None:
    with pytest.raises(StudyInputError, match="n_clips"):
        demo.generate_demo_corpus("words", tmp_path, 0, seed=0)


def test_missing_espeak_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_demo_render, "ESPEAK", "espeak-ng-that-does-not-exist")
    with pytest.raises(StudyInputError, match="install the Debian package 'espeak-ng'"):
        demo.generate_demo_corpus("words", tmp_path / "out", 10, seed=0)
    assert not (tmp_path / "out").exists()


def test_missing_fluidsynth_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_demo_render, "FLUIDSYNTH", "fluidsynth-that-does-not-exist")
    with pytest.raises(StudyInputError, match="install the Debian package 'fluidsynth'"):
        demo.generate_demo_corpus("notes", tmp_path, 10, seed=0)


@pytest.mark.skipif(not HAS_FLUIDSYNTH, reason=NEEDS["notes"][1])
def test_missing_soundfont_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_demo_render, "SOUNDFONT", tmp_path / "missing.sf2")
    with pytest.raises(StudyInputError, match="fluid-soundfont-gm"):
        demo.generate_demo_corpus("mixtures", tmp_path, 10, seed=0)


@pytest.mark.skipif(not HAS_ESPEAK, reason=NEEDS["words"][1])
def test_rerun_replaces_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "stale.wav").write_bytes(b"old")
    (tmp_path / "manifest.csv").write_text("path,word\naudio/stale.wav,old\n")
    demo.generate_demo_corpus("words", tmp_path, 8, seed=0, progress=False)
    demo.generate_demo_corpus("words", tmp_path, 5, seed=0, progress=False)
    manifest = _read_manifest(tmp_path)
    assert len(manifest) == 5
    names = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert names == [f"{i:05d}.wav" for i in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "manifest.csv"]


@pytest.mark.skipif(not HAS_ESPEAK, reason=NEEDS["words"][1])
def test_failure_leaves_no_manifest_and_no_temporaries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "manifest.csv").write_text("path,word\naudio/00000.wav,old\n")

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo.audio, "write_pcm16", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.generate_demo_corpus("words", tmp_path, 5, seed=0, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_midi_file_is_well_formed() -> None:
    notes = [
        _demo_render.Notes(0, (60,), 100, 0.5),
        _demo_render.Notes(40, (55, 59, 62), 90, 0.7, 0.1),
    ]
    data = _demo_render.midi_file(notes)
    assert data[:4] == b"MThd" and data[14:18] == b"MTrk"
    assert int.from_bytes(data[18:22], "big") == len(data) - 22
    assert data.endswith(bytes([0xFF, 0x2F, 0x00]))
    assert data.count(bytes([0x90])) >= 4


@pytest.mark.skipif(not HAS_ESPEAK, reason=NEEDS["words"][1])
def test_command_line_and_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo.main(["numbers", str(tmp_path), "--clips", "4", "--seed", "1"])
    assert len(_read_manifest(tmp_path)) == 4
    assert "demo clips" in capsys.readouterr().err
