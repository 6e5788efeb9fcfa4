"""Tests of the task types: encoding, loss, decision rule, and training with each type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from test_mtl import dataset_paths, make_dataset, read_outputs, train

from analysis.errors import StudyInputError
from analysis.io import write_table
from analysis.mtl.tasks import (
    MISSING,
    BinaryTask,
    MulticlassTask,
    MultilabelTask,
    make_task,
)

MANIFEST = pd.DataFrame({
    "clip_id": [f"c{i}" for i in range(6)],
    "animal": ["cat", "dog", "cat", None, "bird", "dog"],
    "tags": ["a;b", "b", None, "c;a", "a", "b; c"],
    "sex": ["f", "m", "m", "f", None, "f"],
})


def task(name: str, **options) -> MulticlassTask:
    return make_task(name, {"dataset": "d", **options}, MANIFEST, "manifest.csv")


def test_multiclass_encodes_class_indices_and_decides_by_argmax() -> None:
    animal = task("animal", label="animal")
    assert isinstance(animal, MulticlassTask) and animal.classes == ("bird", "cat", "dog")
    assert animal.targets(MANIFEST).tolist() == [1, 2, 1, MISSING, 0, 2]
    logits = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]])
    codes = torch.tensor([1, MISSING])
    torch.testing.assert_close(animal.loss(logits, codes), F.cross_entropy(logits[:1], codes[:1]))
    assert animal.decide(animal.probabilities(logits).numpy()).tolist() == [1, 0]
    assert animal.loss(logits, torch.tensor([MISSING, MISSING])) is None


def test_multilabel_codes_are_bit_masks_with_sigmoid_loss() -> None:
    tags = task("tags", label="tags", type="multilabel")
    assert isinstance(tags, MultilabelTask) and tags.classes == ("a", "b", "c")
    codes = tags.targets(MANIFEST)
    assert codes.tolist() == [0b011, 0b010, MISSING, 0b101, 0b001, 0b110]
    assert tags.indicators(codes[:2]).tolist() == [[1, 1, 0], [0, 1, 0]]
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    loss = tags.loss(logits, torch.tensor([0b011, MISSING]))
    expected = F.binary_cross_entropy_with_logits(logits[:1], torch.tensor([[1.0, 1.0, 0.0]]))
    torch.testing.assert_close(loss, expected)
    assert tags.decide(tags.probabilities(logits).numpy()).tolist() == [0b101, 0]


def test_binary_has_one_output_and_the_second_sorted_class_is_positive() -> None:
    sex = task("sex", label="sex", type="binary")
    assert isinstance(sex, BinaryTask) and sex.n_outputs == 1 and sex.classes == ("f", "m")
    assert sex.targets(MANIFEST).tolist() == [0, 1, 1, 0, MISSING, 0]
    logits = torch.tensor([[1.5], [-0.5]])
    expected = F.binary_cross_entropy_with_logits(logits[:, 0], torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(sex.loss(logits, torch.tensor([1, 0])), expected)
    assert sex.decide(sex.probabilities(logits).numpy()).tolist() == [1, 0]


def test_binary_positive_class_from_the_spec() -> None:
    sex = task("sex", label="sex", type="binary", positive="f")
    assert sex.classes[1] == "f"
    assert sex.targets(MANIFEST).tolist() == [1, 0, 0, 1, MISSING, 1]


def test_binary_with_more_than_two_classes_is_an_error() -> None:
    with pytest.raises(StudyInputError, match="two classes"):
        task("animal", label="animal", type="binary")


def test_variants_apply_through_task_labels() -> None:
    animal = task("animal", label="animal", exclude=["bird"])
    assert animal.classes == ("cat", "dog")
    assert animal.targets(MANIFEST).tolist() == [0, 1, 0, MISSING, MISSING, 1]


def test_training_with_multilabel_and_binary_tasks(tmp_path: Path) -> None:
    make_dataset(tmp_path, "alpha", 60, {"word": 3, "speaker": 2}, seed=1)
    paths = dataset_paths(tmp_path, "alpha")
    manifest = pd.read_parquet(paths["manifest"])
    # every clip tagged with its word, and with 'x' for speaker_1
    extra = np.where(manifest["speaker"] == "speaker_1", ";x", "")
    manifest["tags"] = manifest["word"] + extra
    write_table(manifest, paths["manifest"])
    specs = {
        "alpha_tags": {"dataset": "alpha", "label": "tags", "type": "multilabel"},
        "alpha_speaker": {"dataset": "alpha", "label": "speaker", "type": "binary"},
    }
    out = train(tmp_path, specs, tmp_path / "out",
                training={"epochs": 15, "batch_size": 16, "learning_rate": 0.02, "seeds": [0]})
    tables = read_outputs(out)
    metrics = tables["metrics"].groupby(["task", "metric"])["value"].mean()
    budget = {"updates", "rows_per_update", "scored_epoch"}
    assert set(metrics["alpha_tags"].index) == {"accuracy", "macro_f1", "micro_f1", "roc_auc"} | budget
    assert set(metrics["alpha_speaker"].index) == {"accuracy", "macro_f1", "roc_auc"} | budget
    assert metrics["alpha_tags", "micro_f1"] > 0.7
    assert metrics["alpha_speaker", "accuracy"] > 0.8
    per_class = pd.read_parquet(out / "per_class.parquet")
    assert set(per_class.query("task == 'alpha_tags'")["class"]) == {
        "word_0", "word_1", "word_2", "x"
    }
    confusion = pd.read_parquet(out / "confusion.parquet")
    assert set(confusion["task"]) == {"alpha_speaker"}  # single-label tasks only
