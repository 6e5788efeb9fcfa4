"""Extract features for every clip of a manifest (`results/features/{extractor}/{dataset}.*`).

Writes, atomically:

- `{dataset}.npy`: float32, `(n_rows, n_features)` for a summary extractor or `(n_rows, n_frames,
  n_bands)` for a frame-based one, rows in manifest order;
- `{dataset}.clips.npy`: int64 `(n_rows,)`, the manifest row (clip) of every feature row (the
  identity unless `features.preparation.mode` is `window`, where a row is a window of a clip);
- `{dataset}.json`: the extractor, its resolved parameters and preparation, the shape and names.

Clips are processed in chunks, in forked worker processes when `threads > 1`; every clip goes
through the same function either way, so the numbers do not depend on `threads`.
"""

from __future__ import annotations

import gc
import logging
import math
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # a scikit-learn dependency
from tqdm import tqdm

from analysis.corpora.audio import load_audio, probe_audio
from analysis.errors import StudyInputError
from analysis.features.extractors import Extractor, get_extractor, pad_to, samples_for_frames
from analysis.features.preparation import (
    RowShape,
    cut_or_pad,
    resolve_preparation,
    row_shape,
    window_frames,
)
from analysis.io import read_table, write_array, write_json

logger = logging.getLogger(__name__)

#: Largest number of clips a worker process handles per task.
MAX_CHUNK = 32


def feature_settings(
    extractor: str, params: dict | None, preparation: dict | None, sample_rate: int
) -> dict[str, Any]:
    """The resolved `params` and `preparation` (None for a summary extractor) of an extraction.

    The workflow records exactly this as the extraction job's params, so that writing a default
    out or leaving it implicit gives the same job, and a change reruns only what it affects.
    """
    spec = get_extractor(extractor)
    resolved = spec.resolve(dict(params or {}), int(sample_rate))
    prep = resolve_preparation(preparation) if spec.kind == "frames" else None
    return {"params": resolved, "preparation": prep}


def default_clips_path(out_npy: str | Path) -> str:
    """`{dataset}.clips.npy` beside `{dataset}.npy`."""
    path = Path(out_npy)
    return str(path.with_name(path.name.removesuffix(".npy") + ".clips.npy"))


def extract_features(
    manifest_path: str,
    out_npy: str,
    out_json: str,
    extractor: str,
    params: dict | None,
    sample_rate: int,
    preparation: dict | None = None,
    out_clips: str | None = None,
    threads: int = 1,
    progress: bool = True,
) -> None:
    """Compute `extractor` on every clip of the manifest; write the array, clip index and json.

    `preparation` (frame-based extractors only; default: windows of 96 frames, hop 48) is the
    config's `features.preparation`; `out_clips` defaults to `default_clips_path(out_npy)`.
    """
    spec = get_extractor(extractor)
    settings = feature_settings(extractor, params, preparation, sample_rate)
    resolved, prep = settings["params"], settings["preparation"]
    manifest = read_manifest(manifest_path)
    paths = [str(p) for p in manifest["path"]]
    shape = row_shape(prep, resolved, int(sample_rate), clip_durations(manifest)) if prep else None
    warn_short_clips(manifest, resolved, int(sample_rate), shape)

    features, clips = compute_features(
        paths, extractor, resolved, int(sample_rate), shape=shape, threads=threads, progress=progress
    )
    names = spec.feature_names(resolved)
    if features.shape[-1] != len(names):
        raise RuntimeError(f"extractor {extractor!r} returned {features.shape[-1]} values, expected {len(names)}")
    _check_finite(features, clips, paths)

    write_array(features, out_npy)
    write_array(clips, out_clips or default_clips_path(out_npy))
    write_json(description(spec, settings, shape, int(sample_rate), features, paths, manifest_path), out_json)
    logger.info("%s: %s features %s written to %s", manifest_path, extractor, features.shape, out_npy)


def description(
    spec: Extractor,
    settings: dict[str, Any],
    shape: RowShape | None,
    sample_rate: int,
    features: np.ndarray,
    paths: list[str],
    manifest_path: str,
) -> dict[str, Any]:
    """The json written beside the features."""
    info: dict[str, Any] = {
        "extractor": spec.name,
        "kind": spec.kind,
        "params": settings["params"],
        "preparation": settings["preparation"],
        "sample_rate": sample_rate,
        "shape": list(features.shape),
        "n_rows": int(features.shape[0]),
        "n_clips": len(paths),
        "n_features": int(features.shape[-1]),
        "feature_names": spec.feature_names(settings["params"]),
        "manifest": str(manifest_path),
    }
    if shape is not None:
        info.update(row_frames=shape.frames, row_hop=shape.hop)
    return info


def read_manifest(manifest_path: str) -> pd.DataFrame:
    """The manifest, checked for a `path` column."""
    manifest = read_table(manifest_path)
    if "path" not in manifest.columns:
        raise StudyInputError(
            f"{manifest_path}: no `path` column (columns: {list(manifest.columns)}); "
            "rebuild the manifest with analysis.corpora.readers.index_dataset."
        )
    return manifest


def warn_short_clips(manifest: pd.DataFrame, params: dict[str, Any], sample_rate: int, shape: RowShape | None) -> int:
    """Log how many clips are shorter than one analysis window (they are zero-padded to one): the
    `preparation` window of a windowed extractor, else one STFT frame. Returns the count."""
    if "win_ms" not in params or "hop_ms" not in params:
        return 0
    frames = shape.frames if shape is not None and shape.windowed else 1
    needed = samples_for_frames(frames, params, sample_rate)
    lengths = np.round(clip_durations(manifest) * sample_rate)
    short = lengths < needed
    if short.any():
        examples = ", ".join(str(p) for p in manifest.loc[short, "path"].head(3))
        logger.warning(
            "%d of %d clips are shorter than one analysis window (%.3f s) and are zero-padded to it (e.g. %s)",
            int(short.sum()), len(manifest), needed / sample_rate, examples,
        )
    return int(short.sum())


def clip_durations(manifest: pd.DataFrame) -> np.ndarray:
    """Every clip's length in seconds: the manifest's `duration_s`, or read from the file headers."""
    if "duration_s" in manifest.columns:
        return manifest["duration_s"].to_numpy(dtype=np.float64)
    return np.array([probe_audio(path).duration_s for path in manifest["path"]], dtype=np.float64)


def compute_features(
    paths: list[str],
    extractor: str,
    params: dict[str, Any],
    sample_rate: int,
    shape: RowShape | None = None,
    threads: int = 1,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(features float32, clip index int64) of `paths`, rows in `paths` order; `threads` processes.

    `shape`: how a frame-based extractor's frames become rows (None for a summary extractor).
    """
    spec = get_extractor(extractor)
    if (shape is None) != (spec.kind == "summary"):
        raise ValueError(f"extractor {extractor!r} ({spec.kind}) with row shape {shape}")
    chunks = chunk_bounds(len(paths), threads)
    # One call on a tiny signal loads the extractor's libraries (and caches) once in this process,
    # so forked workers inherit them instead of each importing librosa again.
    with threadpool_limits(limits=1, user_api="blas"):
        clip_rows(np.zeros(1, dtype=np.float32), spec, params, sample_rate, shape)

    if threads <= 1 or len(chunks) <= 1:
        results = _run_serial(chunks, paths, extractor, params, sample_rate, shape, progress)
    else:
        results = _run_parallel(chunks, paths, extractor, params, sample_rate, shape, threads, progress)
    return _assemble(results, spec, params, shape)


def _assemble(
    results: list[tuple[np.ndarray, np.ndarray]], spec: Extractor, params: dict[str, Any], shape: RowShape | None
) -> tuple[np.ndarray, np.ndarray]:
    if not results:
        n_bands = len(spec.feature_names(params))
        empty_shape = (0, n_bands) if shape is None else (0, shape.frames, n_bands)
        return np.empty(empty_shape, dtype=np.float32), np.empty(0, dtype=np.int64)
    features = results[0][0] if len(results) == 1 else np.concatenate([rows for rows, _ in results])
    counts = np.concatenate([counts for _, counts in results])
    clips = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return features, clips


ChunkResult = tuple[np.ndarray, np.ndarray]  # (rows, rows per clip)


def _run_serial(
    chunks: list[tuple[int, int]],
    paths: list[str],
    extractor: str,
    params: dict[str, Any],
    sample_rate: int,
    shape: RowShape | None,
    progress: bool,
) -> list[ChunkResult]:
    results = []
    with _progress_bar(len(paths), extractor, progress) as bar:
        for start, stop in chunks:
            results.append(extract_chunk(paths[start:stop], extractor, params, sample_rate, shape))
            bar.update(stop - start)
    return results


def _run_parallel(
    chunks: list[tuple[int, int]],
    paths: list[str],
    extractor: str,
    params: dict[str, Any],
    sample_rate: int,
    shape: RowShape | None,
    threads: int,
    progress: bool,
) -> list[ChunkResult]:
    results: list[ChunkResult | None] = [None] * len(chunks)
    # fork: workers inherit the loaded libraries and caches instead of importing them again.
    with ProcessPoolExecutor(max_workers=threads, mp_context=get_context("fork")) as pool:
        # Submitting forks the workers; the progress bar (and its monitor thread) comes after, so
        # no extra thread exists when a worker is forked.
        pending = _submit_all(pool, chunks, paths, extractor, params, sample_rate, shape)
        with _progress_bar(len(paths), extractor, progress) as bar:
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = pending.pop(future)
                        results[index] = future.result()
                        bar.update(chunks[index][1] - chunks[index][0])
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return results  # type: ignore[return-value]


def _submit_all(
    pool: ProcessPoolExecutor,
    chunks: list[tuple[int, int]],
    paths: list[str],
    extractor: str,
    params: dict[str, Any],
    sample_rate: int,
    shape: RowShape | None,
) -> dict[Future, int]:
    """Submit every chunk; future -> chunk index. The gc is frozen meanwhile, so that the forked
    workers' collections do not write to (and so copy) every inherited object's memory page."""
    gc.freeze()
    try:
        return {
            pool.submit(extract_chunk, paths[start:stop], extractor, params, sample_rate, shape): index
            for index, (start, stop) in enumerate(chunks)
        }
    finally:
        gc.unfreeze()


def _progress_bar(total: int, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=total, unit="clip", desc=desc, file=sys.stderr, disable=not enabled)


def chunk_bounds(n_items: int, threads: int) -> list[tuple[int, int]]:
    """Split range(n_items) into contiguous (start, stop) chunks: about 4 per worker, <= MAX_CHUNK."""
    if n_items == 0:
        return []
    size = max(1, min(MAX_CHUNK, math.ceil(n_items / (max(1, threads) * 4))))
    return [(start, min(start + size, n_items)) for start in range(0, n_items, size)]


def extract_chunk(
    paths: list[str], extractor: str, params: dict[str, Any], sample_rate: int, shape: RowShape | None = None
) -> ChunkResult:
    """Load and featurise a list of clips (runs in a worker process when threads > 1): the rows of
    all clips stacked, and the number of rows of each clip.

    BLAS is held to one thread: the per-clip matrices are tiny, OpenBLAS's own threads make them
    ~50x slower and oversubscribe the cores when several workers run, and one thread everywhere
    keeps the numbers independent of `threads`.
    """
    spec = get_extractor(extractor)
    with threadpool_limits(limits=1, user_api="blas"):
        blocks = [clip_rows(load_audio(path, sample_rate), spec, params, sample_rate, shape) for path in paths]
    counts = np.array([len(block) for block in blocks], dtype=np.int64)
    return np.concatenate(blocks).astype(np.float32, copy=False), counts


def clip_rows(
    signal: np.ndarray, spec: Extractor, params: dict[str, Any], sample_rate: int, shape: RowShape | None
) -> np.ndarray:
    """One clip's feature rows: (1, n_features) for a summary extractor; (1, frames, n_bands) when
    cut or padded; (n_windows, frames, n_bands) when windowed."""
    if shape is None:
        return spec.compute(signal, sample_rate, params)[None]
    n_samples = samples_for_frames(shape.frames, params, sample_rate)
    if shape.windowed:
        frames = spec.compute(pad_to(signal, n_samples), sample_rate, params)
        return window_frames(frames, shape.frames, shape.hop)
    return spec.compute(cut_or_pad(signal, n_samples), sample_rate, params)[None]


def _check_finite(features: np.ndarray, clips: np.ndarray, paths: list[str]) -> None:
    finite = np.isfinite(features.reshape(len(features), -1)).all(axis=1)
    bad = np.unique(clips[~finite])
    if bad.size:
        shown = ", ".join(paths[i] for i in bad[:5])
        raise StudyInputError(
            f"{bad.size} clips give non-finite features (NaN or infinite samples?): {shown}; "
            "check or remove those audio files."
        )
