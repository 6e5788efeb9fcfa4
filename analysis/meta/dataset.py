"""Dataset features of a task, computed from its dataset's manifest and label column.

A task's data are the clips of its dataset whose label is present (not missing, not empty): a
dataset can carry several label columns and not every clip need be labelled for every task.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["clip_id", "duration_s", "sample_rate"]


def labelled_clips(manifest: pd.DataFrame, label: str, source: str = "manifest") -> pd.DataFrame:
    """The rows of `manifest` labelled in column `label`, with the label as a string column."""
    missing = [column for column in [*MANIFEST_COLUMNS, label] if column not in manifest.columns]
    if missing:
        raise StudyInputError(f"{source} lacks the column(s) {missing} needed for label {label!r}")
    labels = manifest[label]
    present = labels.notna() & (labels.astype(str).str.strip() != "")
    clips = manifest.loc[present].assign(**{label: labels[present].astype(str)})
    if clips.empty:
        raise StudyInputError(f"{source}: label column {label!r} has no labelled clip")
    return clips


def dataset_features(clips: pd.DataFrame, label: str) -> dict[str, float]:
    """Size features of the labelled clips of one task.

    `type_token_ratio` is the number of distinct labels over the number of labelled clips;
    durations are in seconds; `sample_rate` is the median of the clips' sample rates.
    """
    n_clips = len(clips)
    n_labels = clips[label].nunique()
    durations = clips["duration_s"].astype(float)
    return {
        "n_labels": float(n_labels),
        "n_clips": float(n_clips),
        "type_token_ratio": n_labels / n_clips,
        "total_duration_s": float(durations.sum()),
        "mean_duration_s": float(durations.mean()),
        "sample_rate": float(np.median(clips["sample_rate"].astype(float))),
    }
