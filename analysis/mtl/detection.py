"""The `detection` task type: strong labels, frame-level multi-label targets, frame-wise outputs.

A detection task's label column is the manifest's `events` (`analysis.corpora.events`). Its
targets are frame-level: `frames[clip, frame, class]` is 1 when an event of `class` is active at
the frame, on the feature frame grid (`frame_grid`: frame i covers [i * hop, (i + 1) * hop) seconds
and is active when its midpoint lies in [onset, offset)). To fit the one-int64-per-task data path,
a clip's code is its manifest row (`MISSING` never: a clip without events is labelled "no event"),
and the task looks its frame targets up by code; a control task's shuffled codes therefore give
each clip another clip's targets, as they should.

The model's head for the task is frame-wise: `n_frames * n_classes` outputs read as (frames,
classes) logits, trained with binary cross-entropy (`analysis.mtl.frame_heads`). Scores are in
`analysis.mtl.sed_metrics`. Detection needs one feature row per clip: a frame-based extractor with
`preparation: {mode: fixed}`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from analysis.config import section
from analysis.corpora.events import EVENTS_COLUMN, parse_events
from analysis.errors import StudyInputError
from analysis.mtl.frame_heads import FrameOutputs
from analysis.mtl.tasks import MISSING, _TaskBase


@dataclass(frozen=True)
class FrameGrid:
    hop_s: float
    n_frames: int


def frame_targets(events: list[list[tuple[float, float, str]]], classes: tuple[str, ...],
                  grid: FrameGrid) -> np.ndarray:
    """(n_clips, n_frames, n_classes) uint8: 1 where the frame's midpoint is inside an event."""
    index = {label: i for i, label in enumerate(classes)}
    middles = (np.arange(grid.n_frames) + 0.5) * grid.hop_s
    out = np.zeros((len(events), grid.n_frames, len(classes)), dtype=np.uint8)
    for clip, clip_events in enumerate(events):
        for onset, offset, label in clip_events:
            if label in index:
                out[clip, (middles >= onset) & (middles < offset), index[label]] = 1
    return out


def frame_grid(features_path: str | Path) -> FrameGrid:
    """The frame hop and frames per row of a feature store, from the json beside it."""
    info_path = Path(features_path).with_suffix(".json")
    info = json.loads(info_path.read_text())
    preparation = info.get("preparation") or {}
    if info.get("kind") != "frames" or preparation.get("mode") == "window":
        raise StudyInputError(
            f"{info_path}: a detection task needs a frame-based extractor (logmel_patches, mfcc) "
            "with one row per clip: set features.preparation to {mode: fixed, frames: N}"
        )
    return FrameGrid(hop_s=float(info["params"]["hop_ms"]) / 1000.0, n_frames=int(info["shape"][1]))


@dataclass(frozen=True, eq=False)
class DetectionTask(_TaskBase):
    """Frame-wise multi-label detection; codes point at a clip's frame targets."""

    kind = "detection"
    settings: Mapping[str, Any] = field(default_factory=lambda: section("detection"))
    clip_events: tuple = ()  # per manifest row: [(onset, offset, label)]
    grid: FrameGrid | None = None
    frames: np.ndarray | None = None  # (n_clips, n_frames, n_classes), after `with_grid`

    @property
    def n_frames(self) -> int:
        if self.grid is None:
            raise StudyInputError(f"task {self.name!r}: detection task used before its frame grid is known")
        return self.grid.n_frames

    @property
    def n_outputs(self) -> int:
        return FrameOutputs(self.n_frames, len(self.classes))

    def with_grid(self, grid: FrameGrid) -> DetectionTask:
        frames = frame_targets(list(self.clip_events), self.classes, grid)
        return dataclasses.replace(self, grid=grid, frames=frames)

    def targets(self, manifest: pd.DataFrame) -> np.ndarray:
        return np.arange(len(manifest), dtype=np.int64)  # codes are manifest rows

    def frame_truth(self, codes: np.ndarray) -> np.ndarray:
        """(n, n_frames, n_classes) 0/1 targets of the clips `codes` point at."""
        return self.frames[np.asarray(codes)]

    def loss(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor | None:
        labelled = codes != MISSING
        if not bool(labelled.any()):
            return None
        truth = torch.from_numpy(self.frame_truth(codes[labelled].cpu().numpy()))
        target = truth.reshape(int(labelled.sum()), -1).to(logits.device, logits.dtype)
        return F.binary_cross_entropy_with_logits(logits[labelled], target)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)  # (batch, n_frames * n_classes)

    def frame_probabilities(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities.reshape(len(probabilities), self.n_frames, len(self.classes))

    def epoch_scores(self, outputs: Any) -> dict[str, float]:
        from analysis.mtl.sed_metrics import frame_scores

        return frame_scores(self, outputs.codes, outputs.probabilities)

    def final_report(self, outputs: Any) -> Any:
        from analysis.mtl.sed_metrics import detection_report

        return detection_report(self, outputs.codes, outputs.probabilities)


def make_detection_task(name: str, spec: Mapping[str, Any], manifest: pd.DataFrame,
                        manifest_path: str) -> DetectionTask:
    """Classes are the event labels of the whole manifest, sorted (label-free of folds)."""
    from analysis.corpora.tasks import TaskSpec

    spec = dict(spec)
    settings = section("detection", spec.pop("detection", None))
    task_spec = TaskSpec.from_config(name, spec)
    if task_spec.label not in manifest.columns:
        raise StudyInputError(
            f"task {name!r}: column {task_spec.label!r} is not in {manifest_path}; a detection "
            f"task reads the `{EVENTS_COLUMN}` column that the dataset's `events` table adds"
        )
    events = tuple(parse_events(value) for value in manifest[task_spec.label].astype(str))
    classes = tuple(sorted({label for clip in events for _, _, label in clip}))
    if not classes:
        raise StudyInputError(f"task {name!r}: {manifest_path} has no event at all")
    return DetectionTask(name=name, dataset=task_spec.dataset, label=task_spec.label,
                         classes=classes, spec=task_spec, settings=settings, clip_events=events)


def attach_frame_grid(task: Any, features_path: str) -> Any:
    """A detection task gets its frame targets on the features' grid; other tasks pass through."""
    return task.with_grid(frame_grid(features_path)) if isinstance(task, DetectionTask) else task
