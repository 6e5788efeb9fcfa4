"""A task of the study: one label column of one dataset, with its type and optional class variants.

Every stage that reads a task's labels (splits, training, task features) goes through
`task_labels`, so a variant (kept or excluded labels, a cap of clips per label) means the same
thing everywhere: the clips it drops are unlabelled for that task (`<NA>`), not removed from the
dataset, so the dataset's other tasks and its folds are unchanged.

Types: `multiclass` (one label per clip); `multilabel` (a clip's labels joined by `separator`,
returned sorted and joined with ';'; `keep`/`exclude` act on the individual labels); `binary`
(exactly two classes; with `positive` set, every other value becomes `not_<positive>`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.config import default
from analysis.errors import StudyInputError

TASK_TYPES = ("multiclass", "multilabel", "binary", "detection")


@dataclass(frozen=True)
class TaskSpec:
    """What the config says of a task (`datasets.<dataset>.tasks.<name>`)."""

    name: str
    dataset: str
    label: str
    type: str = field(default_factory=lambda: default("task", "type"))
    # multilabel: the separator between the labels of one clip
    separator: str = field(default_factory=lambda: default("task", "separator"))
    positive: str | None = None  # binary: the positive class (default: the second sorted class)
    keep: tuple[str, ...] = field(default_factory=tuple)
    exclude: tuple[str, ...] = field(default_factory=tuple)
    max_per_label: int | None = None

    @classmethod
    def from_config(cls, name: str, spec: dict[str, Any]) -> TaskSpec:
        """Build from the normalised dict the workflow passes (`dataset`, `label` and options)."""
        known = set(cls.__dataclass_fields__) - {"name"}
        unknown = set(spec) - known
        if unknown:
            raise StudyInputError(f"task {name!r}: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
        if spec.get("type", default("task", "type")) not in TASK_TYPES:
            raise StudyInputError(
                f"datasets.{spec.get('dataset')}.tasks.{name}.type: {spec['type']!r} is not one of {TASK_TYPES}"
            )
        values = dict(spec)
        for key in ("keep", "exclude"):
            values[key] = tuple(str(v) for v in values.get(key) or ())
        if values.get("positive") is not None:
            values["positive"] = str(values["positive"])
        return cls(name=name, **values)

    @property
    def field(self) -> str:
        return f"datasets.{self.dataset}.tasks.{self.name}"


def normalise_task(dataset: str, value: str | dict[str, Any]) -> dict[str, Any]:
    """`{task: column}` shorthand or `{task: {label: column, ...}}` -> the dict TaskSpec reads."""
    spec = {"label": value} if isinstance(value, str) else dict(value)
    return {"dataset": dataset, **spec}


def _clip_order(clip_ids: pd.Series, task: str) -> pd.Series:
    """A stable pseudo-random order of clips, the same on every machine, distinct per task."""
    return clip_ids.map(lambda clip: zlib.crc32(f"{task}/{clip}".encode()))


def _split_labels(values: pd.Series, separator: str) -> pd.Series:
    """'b; a;a' -> 'a;b': the set of labels of each clip, sorted, joined with ';'."""
    def canonical(value: str) -> str | None:
        labels = sorted({part.strip() for part in value.split(separator) if part.strip()})
        return ";".join(labels) or None

    return values.map(canonical, na_action="ignore").astype("string")


def task_labels(manifest: pd.DataFrame, spec: TaskSpec) -> pd.Series:
    """The task's label of every clip of `manifest` (same index), `<NA>` where a clip has none.

    Multilabel values come back as their sorted labels joined with ';'. Variants apply in order:
    keep, exclude, then the cap per label (the clips kept are chosen by a stable hash of the clip
    id, so the choice does not depend on the row order or the machine); a binary task's positive
    mapping comes last.
    """
    if spec.label not in manifest.columns:
        raise StudyInputError(
            f"{spec.field}: label column {spec.label!r} is not in the manifest (columns: "
            f"{sorted(manifest.columns)})."
        )
    labels = manifest[spec.label].astype("string").str.strip().replace("", pd.NA)
    if spec.type == "multilabel":
        labels = _filter_multilabel(_split_labels(labels, spec.separator), spec)
    else:
        if spec.keep:
            labels = labels.where(labels.isin(spec.keep))
        if spec.exclude:
            labels = labels.where(~labels.isin(spec.exclude))
    if spec.max_per_label is not None:
        labels = _cap_per_label(manifest, labels, spec)
    if spec.type == "binary" and spec.positive is not None:
        labels = labels.where(labels.isna() | (labels == spec.positive), negative_label(spec.positive))
    return labels


def negative_label(positive: str) -> str:
    """The class a binary task with `positive` gives every other value."""
    return f"not_{positive}"


def individual_labels(labels: pd.Series) -> pd.Series:
    """Multilabel task labels ('a;b') -> one row per (clip, label), same index repeated."""
    return labels.dropna().str.split(";").explode()


def first_label(labels: pd.Series) -> pd.Series:
    """The first (sorted) label of each multilabel value: what folds are stratified on."""
    return labels.str.split(";").str[0].astype("string")


def _filter_multilabel(labels: pd.Series, spec: TaskSpec) -> pd.Series:
    """Apply keep / exclude to each label of a clip; a clip left with no label is unlabelled."""
    if not spec.keep and not spec.exclude:
        return labels

    def kept(value: str) -> str | None:
        parts = [p for p in value.split(";") if (not spec.keep or p in spec.keep) and p not in spec.exclude]
        return ";".join(parts) or None

    return labels.map(kept, na_action="ignore").astype("string")


def _cap_per_label(manifest: pd.DataFrame, labels: pd.Series, spec: TaskSpec) -> pd.Series:
    order = _clip_order(manifest["clip_id"].astype(str), spec.name)
    ranked = pd.DataFrame({"label": labels, "order": order}).dropna(subset=["label"])
    rank = ranked.groupby("label")["order"].rank(method="first")
    kept = rank[rank <= spec.max_per_label].index
    return labels.where(labels.index.isin(kept))
