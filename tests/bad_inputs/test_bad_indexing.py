"""Catalogue (docs/bad-inputs.md): bad audio files and folders, stopped or handled at indexing."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import folders_dataset, write_wav

from analysis.corpora.audio import load_audio
from analysis.corpora.dataset_checks import dataset_config_problems
from analysis.corpora.listing import dataset_fingerprint
from analysis.errors import StudyInputError


def test_missing_path(tmp_path, indexing):
    problems = dataset_config_problems("d", {"reader": "folders", "path": str(tmp_path / "nowhere"), "tasks": {"t": "label"}})
    assert any("datasets.d.path: folder" in p and "does not exist" in p for p in problems)
    message = indexing.fails("folders", tmp_path / "nowhere", {"t": "label"})
    assert "datasets.d.path" in message and "does not exist" in message


def test_empty_folder(tmp_path, indexing):
    (tmp_path / "ds" / "cat").mkdir(parents=True)
    message = indexing.fails("folders", tmp_path / "ds", {"t": "label"})
    assert "the folders reader found no audio clips under" in message


def test_pattern_matches_nothing(tmp_path, indexing):
    root = folders_dataset(tmp_path / "ds")
    message = indexing.fails("pattern", root, {"t": "digit"}, pattern=r"(?P<digit>\d)_x\.wav$")
    assert "datasets.d.pattern" in message and "matches none of the 6 audio files" in message


def _with_bad_file(root: Path, name: str, write) -> Path:
    folders_dataset(root)
    write(root / "cat" / name)
    return root


def test_corrupt_audio(tmp_path, indexing):
    root = _with_bad_file(tmp_path / "ds", "broken.wav", lambda p: p.write_bytes(b"RIFF....WAVEjunk" * 8))
    manifest = indexing.run("folders", root, {"t": "label"})
    assert "cat/broken.wav" not in set(manifest["clip_id"]) and len(manifest) == 6
    assert "cannot read this audio file" in indexing.skipped_reasons()["broken.wav"]
    indexing.out.unlink(), indexing.skipped.unlink()
    message = indexing.fails("folders", root, {"t": "label"}, bad_files="fail")
    assert "broken.wav: cannot read this audio file" in message and "1 of 7 audio files cannot be used" in message


def test_header_only_audio(tmp_path, indexing):
    root = _with_bad_file(tmp_path / "ds", "header.wav", lambda p: sf.write(p, np.zeros((0, 1), np.float32), 8000))
    indexing.run("folders", root, {"t": "label"})
    assert "the audio file is empty (0 frames)" in indexing.skipped_reasons()["header.wav"]


def test_zero_byte_file(tmp_path, indexing):
    root = _with_bad_file(tmp_path / "ds", "zero.wav", lambda p: p.write_bytes(b""))
    indexing.run("folders", root, {"t": "label"})
    assert indexing.skipped_reasons()["zero.wav"].startswith("the file is empty (0 bytes)")
    indexing.out.unlink(), indexing.skipped.unlink()
    message = indexing.fails("folders", root, {"t": "label"}, bad_files="fail")
    assert "zero.wav: the file is empty (0 bytes)" in message


def test_non_finite_audio(tmp_path, indexing):
    signal = np.full((2000, 1), 0.1)
    signal[100], signal[200] = np.nan, np.inf
    write = lambda p: write_wav(p, rate=11025, subtype="FLOAT", data=signal)  # noqa: E731
    root = _with_bad_file(tmp_path / "ds", "nan.wav", write)
    manifest = indexing.run("folders", root, {"t": "label"})
    assert len(manifest) == 6
    assert indexing.skipped_reasons()["nan.wav"].startswith("2 samples are not finite (NaN or infinite)")
    indexing.out.unlink(), indexing.skipped.unlink()
    message = indexing.fails("folders", root, {"t": "label"}, bad_files="fail")
    assert "nan.wav: 2 samples are not finite" in message
    # Loading it for features (resampled to another rate) names the file instead of crashing in librosa.
    with pytest.raises(StudyInputError, match="nan.wav: 2 samples are not finite"):
        load_audio(root / "cat" / "nan.wav", 16000)


def test_all_files_bad(tmp_path, indexing):
    for label in ("cat", "dog"):
        (tmp_path / "ds" / label).mkdir(parents=True)
        (tmp_path / "ds" / label / "x.wav").write_bytes(b"")
    message = indexing.fails("folders", tmp_path / "ds", {"t": "label"})
    assert "datasets.d: none of the audio files under" in message and "can be read" in message


def test_non_audio_files(tmp_path, indexing):
    root = folders_dataset(tmp_path / "ds")
    (root / "cat" / "notes.txt").write_text("not audio")
    (root / "cat" / "cover.jpg").write_bytes(b"\xff\xd8")
    write_wav(root / "cat" / ".hidden.wav")
    manifest = indexing.run("folders", root, {"t": "label"})
    assert len(manifest) == 6 and manifest["clip_id"].str.endswith(".wav").all()
    assert indexing.skipped_reasons() == {}


def test_unicode_and_spaces(tmp_path, indexing):
    root = tmp_path / "my data ü"
    folders_dataset(root, classes=("chat noir", "Hund ß"))
    manifest = indexing.run("folders", root, {"t": "label"})
    assert set(manifest["label"]) == {"chat noir", "Hund ß"}
    assert all(Path(p).is_file() for p in manifest["path"])


def test_mixed_formats(tmp_path, indexing):
    root = tmp_path / "ds"
    for i, (rate, channels, subtype) in enumerate([(8000, 1, "PCM_16"), (16000, 2, "PCM_24"), (22050, 1, "FLOAT")] * 2):
        write_wav(root / ("a" if i % 2 else "b") / f"{i}.wav", rate=rate, channels=channels, subtype=subtype)
    manifest = indexing.run("folders", root, {"t": "label"}, folds=2)
    assert set(manifest["sample_rate"]) == {8000, 16000, 22050} and set(manifest["channels"]) == {1, 2}
    signals = [load_audio(p, 16000) for p in manifest["path"]]
    assert all(s.ndim == 1 and abs(len(s) - 3200) <= 1 for s in signals)


def test_symlink_loop(tmp_path, indexing, caplog):
    root = folders_dataset(tmp_path / "ds")
    os.symlink("..", root / "cat" / "up")  # cat/up -> ds: cat/up/dog/... would relabel dog clips "cat"
    os.symlink(".", root / "dog" / "self")
    with caplog.at_level(logging.WARNING):
        manifest = indexing.run("folders", root, {"t": "label"})
    assert sorted(manifest["clip_id"]) == sorted(f"{c}/{c}_{i}.wav" for c in ("cat", "dog") for i in range(3))
    assert (manifest["label"] == manifest["clip_id"].str.split("/").str[0]).all()
    assert "reached a second time through symbolic links were left out" in caplog.text


def test_symlink_duplicate(tmp_path, indexing, caplog):
    root = folders_dataset(tmp_path / "ds")
    outside = folders_dataset(tmp_path / "elsewhere", classes=("bird",))
    os.symlink(outside / "bird", root / "bird")  # a link out of the dataset: followed once
    os.symlink(outside / "bird", root / "bird_again")  # the same folder again: dropped
    os.symlink(root / "cat" / "cat_0.wav", root / "dog" / "dog_copy.wav")  # a file already listed
    with caplog.at_level(logging.WARNING):
        manifest = indexing.run("folders", root, {"t": "label"})
    assert len(manifest) == 9 and set(manifest["label"]) == {"cat", "dog", "bird"}
    assert "datasets.d: 4 audio files reached a second time" in caplog.text


def test_stale_dataset_fingerprint(tmp_path):
    """The fingerprint indexing reruns on: changes with the file set and the tables, not otherwise."""
    root = folders_dataset(tmp_path / "ds")
    (root / "meta.csv").write_text("label,legs\ncat,4\ndog,4\n")
    os.symlink("..", root / "cat" / "up")
    options = {"metadata": {"path": "meta.csv", "on": "label"}}
    first = dataset_fingerprint(str(root), options)
    assert first and dataset_fingerprint(str(root), options) == first
    write_wav(root / "dog" / "new.wav")
    added = dataset_fingerprint(str(root), options)
    assert added != first
    (root / "dog" / "new.wav").unlink()
    assert dataset_fingerprint(str(root), options) == first
    stamp = os.stat(root / "meta.csv").st_mtime_ns + 10**9
    os.utime(root / "meta.csv", ns=(stamp, stamp))
    assert dataset_fingerprint(str(root), options) != first
    assert dataset_fingerprint(str(tmp_path / "not yet rendered"), {}) == ""
