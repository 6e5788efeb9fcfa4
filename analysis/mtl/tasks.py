"""Task types: how a task's labels are encoded, its loss computed and its predictions read.

Only single-label classification (`multiclass`) exists now; binary and multi-label types plug into
`TASK_TYPES` with the same small interface (`n_outputs`, `encode`, `loss`, `predict`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

MISSING = -1  # target of a clip that has no label for a task


@dataclass(frozen=True)
class MulticlassTask:
    """One label column of one dataset; classes are the sorted values of the whole column."""

    name: str
    dataset: str
    label: str
    classes: tuple[str, ...]

    @property
    def n_outputs(self) -> int:
        return len(self.classes)

    def encode(self, values: pd.Series) -> np.ndarray:
        """Class index of each value, `MISSING` for a null value. Shape (n_clips,), int64."""
        codes = pd.Categorical(values.astype("string"), categories=list(self.classes)).codes
        return np.where(codes < 0, MISSING, codes).astype(np.int64)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor | None:
        """Mean cross-entropy over the labelled samples; None when the batch has none.

        logits: (batch, n_outputs); targets: (batch,) with MISSING for unlabelled samples.
        """
        labelled = targets != MISSING  # (batch,)
        if not bool(labelled.any()):
            return None
        return F.cross_entropy(logits[labelled], targets[labelled])

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """(batch, n_outputs) -> (batch,) class indices."""
        return logits.argmax(dim=1)


def multiclass_from_manifest(
    name: str, dataset: str, label: str, manifest: pd.DataFrame, manifest_path: str
) -> MulticlassTask:
    if label not in manifest.columns:
        raise StudyInputError(
            f"task {name!r}: label column {label!r} is not in {manifest_path} "
            f"(columns: {', '.join(map(str, manifest.columns))})"
        )
    values = manifest[label].dropna().astype(str)
    classes = tuple(sorted(values.unique()))
    if len(classes) < 2:
        raise StudyInputError(
            f"task {name!r}: label column {label!r} of {manifest_path} has {len(classes)} "
            f"class(es) {list(classes)}; a classification task needs at least 2"
        )
    return MulticlassTask(name=name, dataset=dataset, label=label, classes=classes)


TaskFactory = Callable[[str, str, str, pd.DataFrame, str], MulticlassTask]
TASK_TYPES: dict[str, TaskFactory] = {"multiclass": multiclass_from_manifest}


def make_task(name: str, spec: dict, manifest: pd.DataFrame, manifest_path: str) -> MulticlassTask:
    """Build a task from its spec {"dataset", "label", optional "type"} and its manifest."""
    for key in ("dataset", "label"):
        if key not in spec:
            raise StudyInputError(f"task {name!r}: missing field {key!r}")
    kind = spec.get("type", "multiclass")
    if kind not in TASK_TYPES:
        raise StudyInputError(
            f"task {name!r}: unknown task type {kind!r}; known types: {sorted(TASK_TYPES)}"
        )
    return TASK_TYPES[kind](name, spec["dataset"], spec["label"], manifest, manifest_path)
