"""Task specs, types and variants: what `task_labels` gives every stage."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.corpora.tasks import (
    TaskSpec,
    first_label,
    individual_labels,
    normalise_task,
    task_labels,
)
from analysis.errors import StudyInputError


def manifest(labels: list[str], column: str = "tag") -> pd.DataFrame:
    return pd.DataFrame({"clip_id": [f"c{i:02d}.wav" for i in range(len(labels))], column: labels})


def spec(**options) -> TaskSpec:
    return TaskSpec.from_config("t", {"dataset": "d", "label": "tag", **options})


def test_shorthand_and_long_form() -> None:
    assert normalise_task("d", "word") == {"dataset": "d", "label": "word"}
    long = normalise_task("d", {"label": "word", "type": "binary", "positive": 1})
    assert TaskSpec.from_config("t", long).positive == "1"
    with pytest.raises(StudyInputError, match="unknown option"):
        TaskSpec.from_config("t", {"dataset": "d", "label": "x", "kep": ["a"]})
    with pytest.raises(StudyInputError, match=r"datasets.d.tasks.t.type"):
        TaskSpec.from_config("t", {"dataset": "d", "label": "x", "type": "regression"})


def test_multiclass_keep_exclude() -> None:
    table = manifest(["a", "b", "c", " a ", ""])
    assert task_labels(table, spec()).tolist() == ["a", "b", "c", "a", pd.NA]
    assert task_labels(table, spec(keep=["a", "b"])).isna().tolist() == [False, False, True, False, True]
    assert task_labels(table, spec(exclude=["a"])).dropna().tolist() == ["b", "c"]


def test_multilabel_split_sorted_and_filtered_per_label() -> None:
    table = manifest(["dark|bright", "bright", "", "fast|dark|dark"])
    labels = task_labels(table, spec(type="multilabel", separator="|"))
    assert labels.tolist() == ["bright;dark", "bright", pd.NA, "dark;fast"]
    assert sorted(individual_labels(labels)) == ["bright", "bright", "dark", "dark", "fast"]
    assert first_label(labels).tolist() == ["bright", "bright", pd.NA, "dark"]
    kept = task_labels(table, spec(type="multilabel", separator="|", exclude=["dark"]))
    assert kept.tolist() == ["bright", "bright", pd.NA, "fast"]
    only = task_labels(table, spec(type="multilabel", separator="|", keep=["fast"]))
    assert only.tolist() == [pd.NA, pd.NA, pd.NA, "fast"]


def test_binary_positive_maps_every_other_value() -> None:
    table = manifest(["dog", "cat", "bird", "dog"])
    labels = task_labels(table, spec(type="binary", positive="dog"))
    assert labels.tolist() == ["dog", "not_dog", "not_dog", "dog"]
    two = manifest(["yes", "no", "no"])
    assert task_labels(two, spec(type="binary")).tolist() == ["yes", "no", "no"]


def test_max_per_label_is_stable_and_independent_of_row_order() -> None:
    table = manifest(["a"] * 10 + ["b"] * 3)
    capped = task_labels(table, spec(max_per_label=4))
    assert capped.value_counts().to_dict() == {"a": 4, "b": 3}
    shuffled = table.sample(frac=1.0, random_state=1)
    again = task_labels(shuffled, spec(max_per_label=4))
    kept = set(table["clip_id"][capped.notna()])
    assert kept == set(shuffled["clip_id"][again.notna()])


def test_missing_column_names_the_task() -> None:
    with pytest.raises(StudyInputError, match=r"datasets.d.tasks.t: label column 'tag'"):
        task_labels(manifest(["a"], column="word"), spec())
