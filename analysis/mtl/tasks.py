"""Task types: how a task's labels are encoded, its loss computed and its outputs decided.

Every task type has the same small interface, so the data path, the loss and the metrics need no
per-type branches:

- `n_outputs`: width of the task's head;
- `targets(manifest)`: one int64 code per manifest row, `MISSING` where the clip has no label
  (labels are read through `analysis.corpora.tasks.task_labels`, so variants apply);
- `loss(logits, codes)`: mean loss over the labelled rows of a batch, None when there are none;
- `probabilities(logits)`: softmax (multiclass) or sigmoid (multilabel, binary) outputs;
- `decide(probabilities)`: the decision rule, back to codes;
- `indicators(codes)`: codes as a (n, n_classes) 0/1 matrix, for scores per class.

Codes fit one int64 column per task, whatever the type: a class index (multiclass), 0 / 1
(binary: index into `classes`, which holds the negative class then the positive one), or a bit
mask of the labels present (multilabel, at most `MAX_LABELS` labels).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from analysis.corpora.tasks import TaskSpec, task_labels
from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

MISSING = -1  # code of a clip that has no label for a task
MAX_LABELS = 62  # multilabel codes are bit masks in an int64


@dataclass(frozen=True)
class _TaskBase:
    name: str
    dataset: str
    label: str
    classes: tuple[str, ...]
    spec: TaskSpec | None = None
    control: bool = False  # a control task: labels shuffled per fold (analysis.mtl.controls)

    kind = "base"

    def targets(self, manifest: pd.DataFrame) -> np.ndarray:
        """Code of each manifest row (n_clips,), int64, labels read with `task_labels`."""
        spec = self.spec or TaskSpec(name=self.name, dataset=self.dataset, label=self.label)
        return self.encode(task_labels(manifest, spec))

    def encode(self, labels: pd.Series) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class MulticlassTask(_TaskBase):
    """Single-label classification: softmax cross-entropy, argmax decision."""

    kind = "multiclass"

    @property
    def n_outputs(self) -> int:
        return len(self.classes)

    def encode(self, labels: pd.Series) -> np.ndarray:
        """Class index of each label, `MISSING` for a null one. (n,) int64."""
        codes = pd.Categorical(labels.astype("string"), categories=list(self.classes)).codes
        return np.where(codes < 0, MISSING, codes).astype(np.int64)

    def loss(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor | None:
        """logits (batch, n_classes); codes (batch,) with MISSING for unlabelled rows."""
        labelled = codes != MISSING  # (batch,)
        n_labelled = int(labelled.sum())
        if n_labelled == 0:
            return None
        if n_labelled == len(codes):  # the usual case; indexing would copy for nothing
            return F.cross_entropy(logits, codes)
        return F.cross_entropy(logits[labelled], codes[labelled])

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits, dim=1)  # (batch, n_classes)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities.argmax(axis=1).astype(np.int64)  # (n,)

    def indicators(self, codes: np.ndarray) -> np.ndarray:
        return np.eye(len(self.classes), dtype=np.int64)[codes]  # (n, n_classes)


@dataclass(frozen=True)
class BinaryTask(MulticlassTask):
    """Two classes, one sigmoid output: the probability of `classes[1]`, the positive class."""

    kind = "binary"

    @property
    def n_outputs(self) -> int:
        return 1

    def encode(self, labels: pd.Series) -> np.ndarray:
        values = labels.astype("string")
        positive = values.eq(self.classes[1]).fillna(False).to_numpy(dtype=bool)
        return np.where(values.isna().to_numpy(), MISSING, positive.astype(np.int64))

    def loss(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor | None:
        labelled = codes != MISSING
        if not bool(labelled.any()):
            return None
        return F.binary_cross_entropy_with_logits(
            logits[labelled, 0], codes[labelled].to(logits.dtype)
        )

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        positive = torch.sigmoid(logits[:, 0])
        return torch.stack([1.0 - positive, positive], dim=1)  # (batch, 2)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        return (probabilities[:, 1] > 0.5).astype(np.int64)


@dataclass(frozen=True)
class MultilabelTask(_TaskBase):
    """Any subset of the labels: one sigmoid per label, binary cross-entropy, threshold 0.5."""

    kind = "multilabel"

    @property
    def n_outputs(self) -> int:
        return len(self.classes)

    def encode(self, labels: pd.Series) -> np.ndarray:
        """Bit mask of the labels of each clip ('a;b' strings), `MISSING` for a null one."""
        index = {label: bit for bit, label in enumerate(self.classes)}
        codes = np.full(len(labels), MISSING, dtype=np.int64)
        for row, value in enumerate(labels.astype("string").tolist()):
            if value is pd.NA or value is None:
                continue
            mask = 0
            for part in str(value).split(";"):
                if part.strip() in index:
                    mask |= 1 << index[part.strip()]
            codes[row] = mask
        return codes

    def _bits(self, codes: torch.Tensor) -> torch.Tensor:
        powers = torch.tensor([1 << bit for bit in range(len(self.classes))], dtype=torch.int64)
        return (codes.unsqueeze(1) & powers) != 0  # (batch, n_labels)

    def loss(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor | None:
        labelled = codes != MISSING
        if not bool(labelled.any()):
            return None
        target = self._bits(codes[labelled]).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits[labelled], target)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)  # (batch, n_labels)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        weights = np.array([1 << bit for bit in range(len(self.classes))], dtype=np.int64)
        return ((probabilities > 0.5).astype(np.int64) * weights).sum(axis=1)

    def indicators(self, codes: np.ndarray) -> np.ndarray:
        bits = np.arange(len(self.classes), dtype=np.int64)
        return ((np.asarray(codes)[:, None] >> bits) & 1).astype(np.int64)  # (n, n_labels)


Task = MulticlassTask | BinaryTask | MultilabelTask


def _spec(name: str, spec: Mapping[str, Any]) -> TaskSpec:
    for key in ("dataset", "label"):
        if key not in spec:
            raise StudyInputError(f"task {name!r}: missing field {key!r}")
    return TaskSpec.from_config(name, dict(spec))


def _classes(labels: pd.Series, spec: TaskSpec, manifest_path: str) -> tuple[str, ...]:
    values = labels.dropna().astype(str)
    if spec.type == "multilabel":
        values = pd.Series([part for value in values for part in value.split(";")], dtype=str)
    classes = tuple(sorted(values.unique()))
    if len(classes) < 2:
        raise StudyInputError(
            f"task {spec.name!r}: label column {spec.label!r} of {manifest_path} has "
            f"{len(classes)} class(es) {list(classes)}; a classification task needs at least 2"
        )
    return classes


def _binary_classes(classes: tuple[str, ...], spec: TaskSpec) -> tuple[str, str]:
    """(negative, positive): the spec's `positive`, else the second sorted class."""
    positive = spec.positive if spec.positive is not None else classes[1]
    if positive not in classes:
        raise StudyInputError(
            f"{spec.field}.positive: {positive!r} is not a class of the task; classes: "
            f"{list(classes)}"
        )
    negatives = [c for c in classes if c != positive]
    if len(negatives) != 1:
        raise StudyInputError(
            f"{spec.field}: a binary task needs exactly two classes, got {list(classes)}; "
            "use `keep` to choose two, or type multiclass"
        )
    return negatives[0], positive


def make_task(
    name: str, spec: Mapping[str, Any], manifest: pd.DataFrame, manifest_path: str
) -> Task:
    """Build a task from its spec (docs/contracts.md "Tasks") and its dataset's manifest."""
    if spec.get("type") == "detection":  # strong labels: analysis.mtl.detection
        from analysis.mtl.detection import make_detection_task

        return make_detection_task(name, spec, manifest, manifest_path)
    task_spec = _spec(name, spec)
    if task_spec.label not in manifest.columns:
        raise StudyInputError(
            f"task {name!r}: label column {task_spec.label!r} is not in {manifest_path} "
            f"(columns: {', '.join(map(str, manifest.columns))})"
        )
    classes = _classes(task_labels(manifest, task_spec), task_spec, manifest_path)
    common = dict(name=name, dataset=task_spec.dataset, label=task_spec.label, spec=task_spec)
    if task_spec.type == "binary":
        return BinaryTask(classes=_binary_classes(classes, task_spec), **common)
    if task_spec.type == "multilabel":
        if len(classes) > MAX_LABELS:
            raise StudyInputError(
                f"{task_spec.field}: {len(classes)} labels; a multilabel task has at most "
                f"{MAX_LABELS}"
            )
        return MultilabelTask(classes=classes, **common)
    return MulticlassTask(classes=classes, **common)
