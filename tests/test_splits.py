"""Stratified (and grouped) k-fold assignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.corpora.splits import make_splits
from analysis.errors import StudyInputError


def write_manifest(tmp_path: Path, labels: list[str], groups: list[str] | None = None) -> Path:
    manifest = pd.DataFrame({"clip_id": [f"clip{i:03d}.wav" for i in range(len(labels))], "word": labels})
    if groups is not None:
        manifest["group"] = groups
    path = tmp_path / "manifest.parquet"
    manifest.to_parquet(path)
    return path


def splits(
    manifest: Path, tmp_path: Path, n_folds: int = 5, seed: int = 0, group_by: str | None = None
) -> pd.DataFrame:
    out = tmp_path / "splits" / f"s{seed}.parquet"
    make_splits(str(manifest), str(out), n_folds, "word", seed, group_by)
    return pd.read_parquet(out)


def test_stratified_every_fold_has_every_class(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = ["a"] * 40 + ["b"] * 25 + ["c"] * 5
    labels = list(rng.permutation(labels))
    manifest = write_manifest(tmp_path, labels)
    table = splits(manifest, tmp_path)
    assert list(table.columns) == ["clip_id", "fold"]
    assert list(table["clip_id"]) == list(pd.read_parquet(manifest)["clip_id"])  # manifest order
    assert np.issubdtype(table["fold"].dtype, np.integer)
    assert set(table["fold"]) == set(range(5))
    counts = pd.crosstab(table["fold"], pd.Series(labels, name="word"))
    assert (counts > 0).all().all()
    assert counts["a"].tolist() == [8] * 5 and counts["c"].tolist() == [1] * 5


def test_grouped_split_keeps_each_group_in_one_fold(tmp_path: Path) -> None:
    groups = [f"spk{i % 12}" for i in range(120)]
    labels = [f"w{(i // 12) % 3}" for i in range(120)]
    manifest = write_manifest(tmp_path, labels, groups)
    table = splits(manifest, tmp_path, n_folds=4, group_by="group")
    per_group = pd.DataFrame({"group": groups, "fold": table["fold"]}).groupby("group")["fold"].nunique()
    assert (per_group == 1).all()
    assert set(table["fold"]) == set(range(4))


def test_splits_deterministic_by_seed(tmp_path: Path) -> None:
    labels = [f"w{i % 4}" for i in range(80)]
    manifest = write_manifest(tmp_path, labels)
    first, again = splits(manifest, tmp_path, seed=1), splits(manifest, tmp_path, seed=1)
    other = splits(manifest, tmp_path, seed=2)
    pd.testing.assert_frame_equal(first, again)
    assert not first["fold"].equals(other["fold"])


def test_too_few_clips_per_class(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, ["a"] * 10 + ["rare"] * 3)
    with pytest.raises(StudyInputError) as error:
        splits(manifest, tmp_path, n_folds=5)
    message = str(error.value)
    assert "manifest.parquet" in message and "'word'" in message and "'rare' (3 clips)" in message
    assert not (tmp_path / "splits").exists()


def test_missing_columns(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, ["a", "b"] * 10)
    with pytest.raises(StudyInputError, match="manifest.parquet.*'label' does not exist.*word"):
        make_splits(str(manifest), str(tmp_path / "s.parquet"), 5, "label", 0)
    with pytest.raises(StudyInputError, match="group_by column 'group' does not exist"):
        make_splits(str(manifest), str(tmp_path / "s.parquet"), 5, "word", 0, group_by="group")
    grouped = write_manifest(tmp_path, ["a", "b"] * 15, [f"g{i % 3}" for i in range(30)])
    with pytest.raises(StudyInputError, match="3 groups, fewer than folds = 5"):
        make_splits(str(grouped), str(tmp_path / "s.parquet"), 5, "word", 0, group_by="group")
    assert not (tmp_path / "s.parquet").exists()


# Predefined splits and task-aware stratification ----------------------------------------------------


def test_predefined_folds_every_value_a_fold(tmp_path: Path) -> None:
    manifest = pd.DataFrame({"clip_id": [f"c{i}" for i in range(6)], "word": ["a", "b"] * 3,
                             "fold": ["1", "10", "2", "1", "2", "10"]})
    path = tmp_path / "m.parquet"
    manifest.to_parquet(path)
    make_splits(str(path), str(tmp_path / "s.parquet"), 5, "word", 0, group_by="group", folds_from="fold")
    # numeric order: 1 -> 0, 2 -> 1, 10 -> 2 (not "1" < "10" < "2"); k-fold options are ignored
    assert pd.read_parquet(tmp_path / "s.parquet")["fold"].tolist() == [0, 2, 1, 0, 1, 2]


def test_predefined_test_values_and_never_tested(tmp_path: Path) -> None:
    manifest = pd.DataFrame({"clip_id": [f"c{i}" for i in range(5)], "word": ["a"] * 5,
                             "split": ["train", "test", "validation", "test", "train"]})
    path = tmp_path / "m.parquet"
    manifest.to_parquet(path)
    make_splits(str(path), str(tmp_path / "s.parquet"), 5, "word", 0, folds_from={"column": "split", "test": ["test"]})
    assert pd.read_parquet(tmp_path / "s.parquet")["fold"].tolist() == [-1, 0, -1, 0, -1]
    with pytest.raises(StudyInputError, match=r"test value\(s\) \['eval'\] do not occur in column 'split'"):
        make_splits(str(path), str(tmp_path / "x.parquet"), 5, "word", 0, folds_from={"column": "split", "test": ["eval"]})
    with pytest.raises(StudyInputError, match="'fold' does not exist"):
        make_splits(str(path), str(tmp_path / "x.parquet"), 5, "word", 0, folds_from="fold")
    with pytest.raises(StudyInputError, match="folds_from"):
        make_splits(str(path), str(tmp_path / "x.parquet"), 5, "word", 0, folds_from={"col": "split"})
    assert not (tmp_path / "x.parquet").exists()


def test_stratified_on_the_task_labels_after_its_variant(tmp_path: Path) -> None:
    # 'rare' has 2 clips but the task excludes it: the folds are stratified on the task's classes,
    # and its clips (unlabelled for the task) still get folds.
    labels = ["a"] * 20 + ["b"] * 10 + ["rare"] * 2
    manifest = write_manifest(tmp_path, labels)
    out = tmp_path / "s.parquet"
    with pytest.raises(StudyInputError, match="'rare' \\(2 clips\\)"):
        make_splits(str(manifest), str(out), 5, "word", 0)
    task = {"name": "w", "dataset": "d", "label": "word", "exclude": ["rare"]}
    make_splits(str(manifest), str(out), 5, "word", 0, task=task)
    table = pd.read_parquet(out)
    assert (table["fold"] >= 0).all()
    counts = pd.crosstab(table["fold"], pd.Series(labels, name="word"))
    assert counts["b"].tolist() == [2] * 5  # too few to stratify alone, the 2 unlabelled clips join 'a'
    assert (counts["a"] + counts["rare"]).isin([4, 5]).all()


def test_multilabel_stratified_on_the_first_label(tmp_path: Path) -> None:
    labels = ["x;y", "y;x", "y", "x", "z;y"] * 4  # first labels: x (12), y (4), y;z -> y (4)
    manifest = write_manifest(tmp_path, labels)
    out = tmp_path / "s.parquet"
    task = {"name": "t", "dataset": "d", "label": "word", "type": "multilabel"}
    make_splits(str(manifest), str(out), 4, "word", 0, task=task)
    first = pd.Series([sorted(v.split(";"))[0] for v in labels], name="first")
    counts = pd.crosstab(pd.read_parquet(out)["fold"], first)
    assert counts["x"].tolist() == [3] * 4 and counts["y"].tolist() == [2] * 4
