"""Preparation of frame-based features to a fixed size (config `features.preparation`).

A frame-based extractor gives a (n_frames, n_bands) matrix whose length follows the clip's. To stack
clips into one array, each clip becomes one or more rows of `frames` frames:

- `fixed`: the signal is cut or zero-padded (at the end) to the length that gives exactly `frames`
  frames (or the frames of a clip of `seconds` seconds): one row per clip;
- `median`: as `fixed`, with the length of the dataset's median clip (from the manifest's
  `duration_s`; label-free, and computed over all clips, test clips included);
- `window`: overlapping windows of `frames` frames, `hop` frames apart, over the whole clip's frames;
  a clip shorter than one window is zero-padded to one; frames after the last whole window are
  dropped. A row is then a window, and the clip index says which clip each window belongs to.

Padding is done on the signal, so a padded frame is the extractor's output for silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.config import section
from analysis.errors import StudyInputError
from analysis.features.extractors import check_number, frames_for_samples

logger = logging.getLogger(__name__)

PREFIX = "features.preparation"
MODES: tuple[str, ...] = ("fixed", "median", "window")

#: Keys each mode accepts (besides `mode`).
MODE_KEYS: dict[str, tuple[str, ...]] = {"fixed": ("frames", "seconds"), "median": (), "window": ("frames", "hop")}


@dataclass(frozen=True)
class RowShape:
    """How one clip's frames become feature rows."""

    frames: int  # frames per row
    hop: int | None = None  # window mode: frames between window starts; None: one row per clip

    @property
    def windowed(self) -> bool:
        return self.hop is not None


def resolve_preparation(preparation: dict[str, Any] | None) -> dict[str, Any]:
    """Check `features.preparation` and fill its defaults; resolving the result again is a no-op."""
    defaults = section("features")["preparation"]  # the schema's
    prep = dict(defaults if preparation is None else preparation)
    mode = prep.pop("mode", defaults["mode"])
    if mode not in MODES:
        raise StudyInputError(f"{PREFIX}.mode must be one of {list(MODES)} (got {mode!r}).")
    unknown = sorted(set(prep) - set(MODE_KEYS[mode]))
    if unknown:
        raise StudyInputError(
            f"{PREFIX}: {unknown} not used by mode {mode!r}; it accepts {['mode', *MODE_KEYS[mode]]}."
        )
    if mode == "window":
        return {"mode": mode, **_resolve_window(prep)}
    if mode == "fixed":
        return {"mode": mode, **_resolve_fixed(prep)}
    return {"mode": mode}


def _resolve_window(prep: dict[str, Any]) -> dict[str, int]:
    frames = prep.get("frames", section("features")["preparation"]["frames"])
    check_number("frames", frames, minimum=1, integer=True, prefix=PREFIX)
    hop = prep.get("hop", max(1, int(frames) // 2))
    check_number("hop", hop, minimum=1, integer=True, prefix=PREFIX)
    return {"frames": int(frames), "hop": int(hop)}


def _resolve_fixed(prep: dict[str, Any]) -> dict[str, Any]:
    if ("frames" in prep) == ("seconds" in prep):
        raise StudyInputError(
            f"{PREFIX}: mode 'fixed' needs exactly one of `frames` or `seconds` (got {sorted(prep) or 'neither'})."
        )
    if "frames" in prep:
        check_number("frames", prep["frames"], minimum=1, integer=True, prefix=PREFIX)
        return {"frames": int(prep["frames"])}
    check_number("seconds", prep["seconds"], minimum=0, exclusive=True, prefix=PREFIX)
    return {"seconds": float(prep["seconds"])}


def row_shape(
    preparation: dict[str, Any], params: dict[str, Any], sample_rate: int, durations_s: np.ndarray | None = None
) -> RowShape:
    """The RowShape of resolved `preparation` for resolved extractor `params`.

    `durations_s` (every clip's length in seconds) is needed by mode `median` only.
    """
    mode = preparation["mode"]
    if mode == "window":
        return RowShape(frames=preparation["frames"], hop=preparation["hop"])
    if mode == "fixed" and "frames" in preparation:
        return RowShape(frames=preparation["frames"])
    if mode == "fixed":
        seconds = preparation["seconds"]
    else:
        if durations_s is None or len(durations_s) == 0:
            raise StudyInputError(f"{PREFIX}.mode 'median' needs the clips' durations; the manifest lists none.")
        seconds = float(np.median(durations_s))
        logger.info("median clip length %.3f s", seconds)
    return RowShape(frames=frames_for_samples(int(round(seconds * sample_rate)), params, sample_rate))


def cut_or_pad(signal: np.ndarray, n_samples: int) -> np.ndarray:
    """The first `n_samples` samples of `signal`, zero-padded at the end when it is shorter."""
    if signal.shape[0] >= n_samples:
        return signal[:n_samples]
    return np.pad(signal, (0, n_samples - signal.shape[0]))


def window_frames(frames: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Windows of `size` frames, `hop` apart, of a (n_frames >= size, n_bands) matrix:
    (1 + (n_frames - size) // hop, size, n_bands), a contiguous copy."""
    if frames.shape[0] < size:
        raise ValueError(f"{frames.shape[0]} frames cannot hold one window of {size}")
    windows = np.lib.stride_tricks.sliding_window_view(frames, size, axis=0)[::hop]  # (n, bands, size)
    return np.ascontiguousarray(windows.transpose(0, 2, 1))


def n_windows(n_frames: int, size: int, hop: int) -> int:
    """Windows `window_frames` gives for a clip of `n_frames` frames (padded to one window)."""
    return 1 + (max(n_frames, size) - size) // hop
