"""Dataset and audio features of a task, from its dataset's manifest, labels and audio statistics.

A task's data are the clips of its dataset that have a label for the task (`task_labels` gives
`<NA>` for the others): a dataset can carry several tasks and not every clip need be labelled for
every task. Definitions (also in README.md, "Task features"):

- `n_labels`: distinct labels (classes) of the task;
- `n_clips`: labelled clips;
- `n_labelled_frames`: 10 ms frames in the labelled clips, `sum(floor(100 * duration_s))`;
- `type_token_ratio`: label types over label tokens. A token is one label given to one clip: a
  single-label clip holds one token, a multilabel clip `a;b` two. So it is `n_labels / n_clips` for a
  single-label task, and lower when clips carry several labels;
- `dataset_clips`, `dataset_hours`, `dataset_bytes`: size of the whole dataset (every clip, labelled
  for this task or not): clips, hours of audio, bytes of the audio files;
- `mean_duration_s`, `total_duration_s`: length of the labelled clips in seconds;
- `sample_rate`, `channels`: median over the labelled clips of the files' own values;
- `snr_db`: median over the labelled clips of the per-clip SNR estimate (`analysis.meta.audio`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["clip_id", "duration_s", "sample_rate", "channels"]
FRAMES_PER_SECOND = 100
MULTILABEL_SEPARATOR = ";"  # task_labels joins a clip's labels with ';'


def check_manifest(manifest: pd.DataFrame, source: str) -> None:
    missing = [column for column in MANIFEST_COLUMNS if column not in manifest.columns]
    if missing:
        raise StudyInputError(f"{source} lacks the column(s) {missing} needed for task features")


def labelled_clips(manifest: pd.DataFrame, labels: pd.Series, task: str,
                   source: str = "manifest") -> pd.DataFrame:
    """The rows of `manifest` where the task's `labels` (same index) are present, with `label`."""
    check_manifest(manifest, source)
    present = labels.notna()
    if not present.any():
        raise StudyInputError(f"{source}: task {task!r} has no labelled clip")
    return manifest.loc[present].assign(label=labels[present].astype(str))


def label_tokens(labels: pd.Series, multilabel: bool) -> pd.Series:
    """Every label given to a clip, one row each: multilabel values 'a;b' count as two tokens."""
    labels = labels.dropna().astype(str)
    if not multilabel:
        return labels.reset_index(drop=True)
    return labels.str.split(MULTILABEL_SEPARATOR).explode().reset_index(drop=True)


def labelled_frames(durations: pd.Series) -> float:
    """Number of whole 10 ms frames in clips of the given durations (seconds)."""
    frames = np.floor(durations.to_numpy(dtype=float) * FRAMES_PER_SECOND + 1e-9)
    return float(frames.sum())


def dataset_features(clips: pd.DataFrame, tokens: pd.Series) -> dict[str, float]:
    """Size features of one task: labels, labelled clips, frames and the type/token ratio."""
    n_labels = tokens.nunique()
    return {
        "n_labels": float(n_labels),
        "n_clips": float(len(clips)),
        "n_labelled_frames": labelled_frames(clips["duration_s"]),
        "type_token_ratio": n_labels / len(tokens),
    }


def dataset_size(manifest: pd.DataFrame, audio_stats: pd.DataFrame | None) -> dict[str, float]:
    """Clips, hours and bytes of the whole dataset (bytes NaN without audio statistics)."""
    size = float(audio_stats["bytes"].sum()) if audio_stats is not None else float("nan")
    return {"dataset_clips": float(len(manifest)),
            "dataset_hours": float(manifest["duration_s"].astype(float).sum() / 3600),
            "dataset_bytes": size}


def audio_features(clips: pd.DataFrame, audio_stats: pd.DataFrame | None) -> dict[str, float]:
    """Length, sample rate, channels and SNR of the labelled clips."""
    durations = clips["duration_s"].astype(float)
    snr = float("nan")
    if audio_stats is not None:
        per_clip = audio_stats.set_index("clip_id")["snr_db"]
        snr = float(per_clip.reindex(clips["clip_id"].astype(str)).median())
    return {
        "mean_duration_s": float(durations.mean()),
        "total_duration_s": float(durations.sum()),
        "sample_rate": float(np.median(clips["sample_rate"].astype(float))),
        "channels": float(np.median(clips["channels"].astype(float))),
        "snr_db": snr,
    }
