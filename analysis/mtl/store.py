"""The feature store: `.npy` feature arrays read by rows, and scalers fit by streaming.

A dataset's features (`(n_rows, ...)`, float32) stay on disk as a memory-mapped `.npy` file and
training gathers the rows of each batch as it needs them, so memory does not grow with the dataset.
A small array (up to `preload_mb`) is loaded into memory once instead: the fast path. Both paths
give the same numbers: the scaler is fit over the same fixed chunks and applied per batch.

Pages of a memory map that have been read count in the process's resident memory until the map is
dropped, so the store drops and reopens its map after every `REMAP_BYTES` it has touched. A read
of one row maps the pages around it too (the kernel's fault-around, 64 KiB by default), so a
scattered row counts as at least `FAULT_AROUND_BYTES`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

SCALING_MODES = ("feature", "feature_frame", "none")
PRELOAD_MB = 256.0
CHUNK_BYTES = 4 * 2**20  # rows per streamed chunk: fixed, so statistics do not depend on preload
REMAP_BYTES = 64 * 2**20
FAULT_AROUND_BYTES = 64 * 2**10


class FeatureStore:
    """Rows of one `.npy` feature array, preloaded when it is at most `preload_mb` MB."""

    def __init__(self, path: str, preload_mb: float = PRELOAD_MB) -> None:
        self.path = str(path)
        mapped = self._open()
        if mapped.ndim < 2 or not np.issubdtype(mapped.dtype, np.floating):
            raise StudyInputError(
                f"{self.path}: features have shape {mapped.shape} and dtype {mapped.dtype}; "
                "expected a float array (n_rows, n_features) or (n_rows, n_frames, n_bands)"
            )
        self.shape: tuple[int, ...] = tuple(mapped.shape)
        self.preloaded = mapped.nbytes <= preload_mb * 2**20
        self._memory = np.array(mapped, dtype=np.float32) if self.preloaded else None
        self._mapped: np.ndarray | None = None
        self._read_bytes = 0

    def _open(self) -> np.ndarray:
        try:
            return np.load(self.path, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise StudyInputError(f"{self.path}: cannot read the feature array: {error}") from error

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    @property
    def row_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    @property
    def row_bytes(self) -> int:
        return 4 * math.prod(self.row_shape)

    @property
    def chunk_rows(self) -> int:
        return max(1, CHUNK_BYTES // max(1, self.row_bytes))

    def _source(self, touched_bytes: int) -> np.ndarray:
        """The array to read from; the map is renewed every REMAP_BYTES touched."""
        if self._memory is not None:
            return self._memory
        if self._mapped is None or self._read_bytes >= REMAP_BYTES:
            self._mapped = None  # unmaps: its resident pages leave this process
            self._mapped = self._open()
            self._read_bytes = 0
        self._read_bytes += touched_bytes
        return self._mapped

    def rows(self, index: np.ndarray) -> np.ndarray:
        """A float32 copy of the rows `index` (any order): (len(index), *row_shape)."""
        source = self._source(len(index) * max(self.row_bytes, FAULT_AROUND_BYTES))
        if self._memory is not None:
            return source[index]
        order = np.argsort(index, kind="stable")  # read the file in ascending order
        out = np.empty((len(index), *self.row_shape), dtype=np.float32)
        out[order] = source[index[order]]
        return out

    def span(self, start: int, stop: int) -> np.ndarray:
        """A float32 copy of the contiguous rows start:stop."""
        return np.array(self._source((stop - start) * self.row_bytes)[start:stop], dtype=np.float32)

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, rows) of consecutive chunks of `chunk_rows` rows covering the array."""
        for start in range(0, self.n_rows, self.chunk_rows):
            yield start, self.span(start, min(start + self.chunk_rows, self.n_rows))

    def check_finite(self) -> None:
        for start, chunk in self.chunks():
            bad = ~np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1)
            if bad.any():
                raise StudyInputError(
                    f"{self.path}: features contain NaN or infinite values "
                    f"(first in row {start + int(np.argmax(bad))}); re-extract the features"
                )


@dataclass(frozen=True)
class Scaler:
    """Standardisation of rows with fitted statistics; identity when `mean` is None."""

    mean: np.ndarray | None = None  # float32, broadcasts against one row
    scale: np.ndarray | None = None

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(n, *row_shape) -> (n, *row_shape) float32."""
        if self.mean is None:
            return x
        x -= self.mean
        x /= self.scale
        return x


class RunningMoments:
    """Mean and variance per column over chunks of rows: scikit-learn's
    `StandardScaler().partial_fit` (dense rows, no NaN, no weights) step for step, so the
    statistics are bit-identical to it, without importing scikit-learn before training starts."""

    def __init__(self) -> None:
        self.mean: np.ndarray | float = 0.0
        self.var: np.ndarray | float = 0.0
        self.count: np.ndarray | float | None = None  # rows seen, as StandardScaler keeps it

    def update(self, x: np.ndarray) -> None:
        """Add the rows x (n, d), float32 (Chan, Golub and LeVeque's update)."""
        if self.count is None:
            last_count = np.zeros(x.shape[1], dtype=np.float64)
        else:
            last_count = np.repeat(self.count, x.shape[1]).astype(np.int64).astype(np.float64)
        last_sum = self.mean * last_count
        new_sum = np.sum(x, axis=0, dtype=np.float64)
        new_count = x.shape[0] - np.sum(np.isnan(x).astype(x.dtype), axis=0, dtype=np.float64)
        count = last_count + new_count
        mean = (last_sum + new_sum) / count
        centred = x - new_sum / new_count
        correction = np.sum(centred, axis=0, dtype=np.float64)
        centred **= 2
        new_unnormalized = np.sum(centred, axis=0, dtype=np.float64)
        new_unnormalized -= correction**2 / new_count
        with np.errstate(divide="ignore", invalid="ignore"):
            last_over_new = last_count / new_count
            unnormalized = (
                self.var * last_count
                + new_unnormalized
                + last_over_new / count * (last_sum / last_over_new - new_sum) ** 2
            )
        zeros = last_count == 0
        unnormalized[zeros] = new_unnormalized[zeros]
        self.mean, self.var = mean, unnormalized / count
        self.count = count[0] if count.max() == count.min() else count

    def scale(self) -> np.ndarray:
        """Standard deviations; 1 for a column indistinguishable from a constant."""
        eps = np.finfo(np.float64).eps
        constant = self.var <= self.count * eps * self.var + (self.count * self.mean * eps) ** 2
        scale = np.sqrt(self.var)
        scale[constant] = 1.0
        return scale


def check_scaling(mode: str) -> str:
    if mode not in SCALING_MODES:
        raise StudyInputError(
            f"training.scaling {mode!r} is unknown; use one of {', '.join(SCALING_MODES)}"
        )
    return mode


def fit_scaler(store: FeatureStore, train: np.ndarray, mode: str) -> Scaler:
    """Fit the statistics of `mode` on the rows where `train` (n_rows,) is true, chunk by chunk.

    `feature`: one mean and scale per feature (the last axis), pooled over rows and frames;
    `feature_frame`: one per element of a row (frame and band); `none`: no scaling.
    """
    if check_scaling(mode) == "none":
        return Scaler()
    width = store.row_shape[-1] if mode == "feature" else math.prod(store.row_shape)
    moments = RunningMoments()
    for start, chunk in store.chunks():
        selected = chunk[train[start : start + len(chunk)]]
        if len(selected):
            moments.update(selected.reshape(-1, width))
    if moments.count is None:
        raise StudyInputError(f"{store.path}: no training rows to fit the scaler on")
    shape = (store.row_shape[-1],) if mode == "feature" else store.row_shape
    return Scaler(
        mean=np.asarray(moments.mean).reshape(shape).astype(np.float32),
        scale=moments.scale().reshape(shape).astype(np.float32),
    )
