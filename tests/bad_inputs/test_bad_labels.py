"""Catalogue (docs/bad-inputs.md): bad labels, manifests and folds; stopped at indexing or training."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import folders_dataset, manifest_dataset

from analysis.config_checks import coerce_numbers, sorted_keys
from analysis.corpora.annotations import derive_columns
from analysis.corpora.dataset_checks import dataset_config_problems
from analysis.corpora.fold_check import check_training_classes
from analysis.corpora.splits import make_splits
from analysis.errors import StudyInputError
from analysis.features.extract import warn_short_clips


def rows(labels: list[str], column: str = "label") -> list[dict]:
    return [{"path": f"audio/{i}.wav", column: label} for i, label in enumerate(labels)]


def test_one_class(tmp_path, indexing):
    root = folders_dataset(tmp_path / "ds", classes=("cat",))
    message = indexing.fails("folders", root, {"t": "label"})
    assert "datasets.d.tasks.t: label column 'label' has a single class" in message


def test_too_few_clips_per_class(tmp_path, indexing):
    root = manifest_dataset(tmp_path / "ds", rows(["a"] * 5 + ["b"] * 2))
    message = indexing.fails("manifest", root, {"t": "label"}, folds=3)
    assert "datasets.d.tasks.t" in message and "fewer clips than folds = 3: 'b' (2 clips)" in message
    assert "lower `folds` to at most 2" in message


def test_single_clip_class(tmp_path, indexing):
    root = manifest_dataset(tmp_path / "ds", rows(["a"] * 5 + ["b"]))
    message = indexing.fails("manifest", root, {"t": "label"}, folds=2)
    assert "'b' (1 clips)" in message and "add clips of those classes or drop them" in message
    assert "at most 1" not in message and "folds: 1" not in message
    # The fold assignment says the same when it is reached directly.
    manifest = pd.DataFrame({"clip_id": [f"{i}" for i in range(6)], "label": ["a"] * 5 + ["b"]})
    manifest.to_parquet(tmp_path / "m.parquet")
    with pytest.raises(StudyInputError, match="Add clips of those classes") as error:
        make_splits(str(tmp_path / "m.parquet"), str(tmp_path / "s.parquet"), 2, "label", 0)
    assert "at most 1" not in str(error.value) and not (tmp_path / "s.parquet").exists()


def test_manifest_missing_column(tmp_path, indexing):
    root = manifest_dataset(tmp_path / "ds", rows(["a", "b"] * 2))
    problems = dataset_config_problems("d", {"reader": "manifest", "path": str(root), "tasks": {"t": "colour"}})
    assert problems == [
        "datasets.d.tasks.t: label column 'colour' is not among the columns of manifest.csv (['label'])."
    ]
    pd.read_csv(root / "manifest.csv").rename(columns={"path": "file"}).to_csv(root / "manifest.csv", index=False)
    message = indexing.fails("manifest", root, {"t": "label"})
    assert "the manifest has no `path` column" in message and "manifest.csv" in message


def test_manifest_empty_label(tmp_path, indexing):
    root = manifest_dataset(tmp_path / "ds", rows(["a", "b", "", "a", "b"]))
    message = indexing.fails("manifest", root, {"t": "label"})
    assert "datasets.d.tasks.t: label column 'label' is empty for 1 clips (audio/2.wav)" in message


def test_manifest_missing_file(tmp_path, indexing):
    root = manifest_dataset(tmp_path / "ds", rows(["a", "b"] * 2))
    (root / "audio" / "3.wav").unlink()
    message = indexing.fails("manifest", root, {"t": "label"})
    assert "manifest.csv: 1 listed audio files do not exist" in message and "3.wav" in message


def test_manifest_duplicate_rows(tmp_path, indexing):
    table = rows(["a", "b"] * 2)
    root = manifest_dataset(tmp_path / "ds", table + [table[0]])
    message = indexing.fails("manifest", root, {"t": "label"})
    assert "datasets.d: 1 clips are listed more than once (audio/0.wav); list each file once" in message


def test_numeric_label_keys(caplog):
    clips = pd.DataFrame({"clip_id": ["x", "y", "z"], "actor": ["03", "08", "12"]})
    derive = {"sex": {"from": "actor", "values": {3: "male", "08": "female"}, "default": "unknown"}}
    with caplog.at_level(logging.WARNING):
        derived = derive_columns(clips, "d", sorted_keys(derive))
    assert list(derived["sex"]) == ["unknown", "female", "unknown"]  # labels are compared as text
    assert "datasets.d.derive.sex.values: key(s) 3 match no value of column 'actor'" in caplog.text
    assert "quote them ('03'" in caplog.text
    # Keys of mixed types (3 and '08') sort as text instead of raising TypeError.
    assert list(sorted_keys({"08": 1, 3: 2, "10": 3})) == ["08", "10", 3]


def test_exponent_number():
    schema = {"type": "object", "properties": {"training": {"type": "object", "properties": {
        "learning_rate": {"type": "number"}, "optimizer": {"enum": ["adam"]}, "seeds": {"type": "array", "items": {"type": "integer"}}}}}}
    config = {"training": {"learning_rate": "1e-3", "optimizer": "adam", "seeds": ["1e1"]}}
    assert coerce_numbers(config, schema) == {"training": {"learning_rate": 0.001, "optimizer": "adam", "seeds": [10]}}
    assert coerce_numbers({"training": {"learning_rate": "fast"}}, schema)["training"]["learning_rate"] == "fast"


def test_yaml_boolean_key():
    schema = {"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "path": {"type": "string"}, "on": {"type": "string"}}}, "flag": {"type": "boolean"}}}
    config = {"metadata": yaml.safe_load("{path: speakers.csv, on: speaker}"), "flag": True}
    assert coerce_numbers(config, schema) == {"metadata": {"path": "speakers.csv", "on": "speaker"}, "flag": True}


def test_group_task_unseen_classes(tmp_path):
    speakers = [f"s{i}" for i in range(4) for _ in range(3)]
    manifest = pd.DataFrame({"clip_id": [f"{i}.wav" for i in range(12)], "speaker": speakers,
                             "word": ["yes", "no", "up"] * 4, "group": speakers})
    folds = pd.DataFrame({"clip_id": manifest["clip_id"], "fold": [int(s[1]) % 2 for s in speakers]})
    manifest.to_parquet(tmp_path / "m.parquet"), folds.to_parquet(tmp_path / "s.parquet")
    files = ({"d": str(tmp_path / "m.parquet")}, {"d": str(tmp_path / "s.parquet")})
    check_training_classes({"words": {"dataset": "d", "label": "word"}}, *files)  # every word in every fold
    control = {"words_control": {"dataset": "d", "label": "word", "control": True}}
    check_training_classes(control, *files)  # a control task has its base task's classes
    with pytest.raises(StudyInputError) as error:
        check_training_classes({"words": {"dataset": "d", "label": "word"},
                                "who": {"dataset": "d", "label": "speaker"}}, *files)
    message = str(error.value)
    assert "datasets.d.tasks.who: the training part of fold 0" in message and "'s0', 's2'" in message
    assert "fold 1" in message and "group_folds" in message and "words" not in message


def test_short_clips(caplog):
    manifest = pd.DataFrame({"path": ["a.wav", "b.wav", "c.wav"], "duration_s": [0.01, 0.5, 0.02]})
    params = {"win_ms": 25, "hop_ms": 10}
    with caplog.at_level(logging.WARNING):
        assert warn_short_clips(manifest, params, 16000, None) == 2
    assert "2 of 3 clips are shorter than one analysis window (0.032 s) and are zero-padded" in caplog.text
    assert np.isclose(0.032, 512 / 16000)
