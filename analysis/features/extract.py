"""Extract a fixed-size feature vector per clip of a manifest (`results/features/{extractor}/{dataset}.*`).

The array is float32, shape (n_clips, n_features), in manifest order; beside it a json records the
extractor, its resolved parameters and the feature names. Clips are processed in chunks, in
parallel worker processes when `threads > 1`; every clip goes through the same function either way,
so the numbers do not depend on `threads`.
"""

from __future__ import annotations

import logging
import math
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # a scikit-learn dependency
from tqdm import tqdm

from analysis.corpora.audio import load_audio
from analysis.errors import StudyInputError
from analysis.features.extractors import get_extractor
from analysis.io import read_table, write_array, write_json

logger = logging.getLogger(__name__)

#: Largest number of clips a worker process handles per task.
MAX_CHUNK = 32


def extract_features(
    manifest_path: str,
    out_npy: str,
    out_json: str,
    extractor: str,
    params: dict,
    sample_rate: int,
    threads: int = 1,
    progress: bool = True,
) -> None:
    """Compute `extractor` on every clip of the manifest; write the array and its json atomically."""
    spec = get_extractor(extractor)
    resolved = spec.resolve(dict(params or {}), int(sample_rate))
    names = spec.feature_names(resolved)
    paths = manifest_paths(manifest_path)

    features = compute_features(paths, extractor, resolved, int(sample_rate), threads=threads, progress=progress)
    if features.shape[1] != len(names):
        raise RuntimeError(f"extractor {extractor!r} returned {features.shape[1]} values, expected {len(names)}")
    _check_finite(features, paths)

    write_array(features, out_npy)
    write_json(
        {
            "extractor": extractor,
            "params": resolved,
            "sample_rate": int(sample_rate),
            "n_clips": int(features.shape[0]),
            "n_features": int(features.shape[1]),
            "feature_names": names,
            "manifest": str(manifest_path),
        },
        out_json,
    )
    logger.info("%s: %s features %s written to %s", manifest_path, extractor, features.shape, out_npy)


def manifest_paths(manifest_path: str) -> list[str]:
    """The audio paths of a manifest, in manifest order."""
    manifest = read_table(manifest_path)
    if "path" not in manifest.columns:
        raise StudyInputError(
            f"{manifest_path}: no `path` column (columns: {list(manifest.columns)}); "
            "rebuild the manifest with analysis.corpora.readers.index_dataset."
        )
    return [str(p) for p in manifest["path"]]


def compute_features(
    paths: list[str],
    extractor: str,
    params: dict[str, Any],
    sample_rate: int,
    threads: int = 1,
    progress: bool = True,
) -> np.ndarray:
    """Feature matrix (len(paths), n_features) float32 in `paths` order; `threads` worker processes."""
    spec = get_extractor(extractor)
    out = np.empty((len(paths), len(spec.feature_names(params))), dtype=np.float32)
    chunks = chunk_bounds(len(paths), threads)
    # One call on a tiny signal loads the extractor's libraries (and caches) once in this process,
    # so forked workers inherit them instead of each importing librosa again.
    with threadpool_limits(limits=1, user_api="blas"):
        spec.compute(np.zeros(1, dtype=np.float32), sample_rate, params)

    if threads <= 1 or len(chunks) <= 1:
        with _progress_bar(len(paths), extractor, progress) as bar:
            for start, stop in chunks:
                out[start:stop] = extract_chunk(paths[start:stop], extractor, params, sample_rate)
                bar.update(stop - start)
        return out

    with ProcessPoolExecutor(max_workers=threads) as pool:
        # Submitting starts the workers; the progress bar (and its monitor thread) comes after, so
        # no extra thread exists when a worker is forked.
        pending: dict[Future, tuple[int, int]] = {
            pool.submit(extract_chunk, paths[start:stop], extractor, params, sample_rate): (start, stop)
            for start, stop in chunks
        }
        with _progress_bar(len(paths), extractor, progress) as bar:
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        start, stop = pending.pop(future)
                        out[start:stop] = future.result()
                        bar.update(stop - start)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return out


def _progress_bar(total: int, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=total, unit="clip", desc=desc, file=sys.stderr, disable=not enabled)


def chunk_bounds(n_items: int, threads: int) -> list[tuple[int, int]]:
    """Split range(n_items) into contiguous (start, stop) chunks: about 4 per worker, <= MAX_CHUNK."""
    if n_items == 0:
        return []
    size = max(1, min(MAX_CHUNK, math.ceil(n_items / (max(1, threads) * 4))))
    return [(start, min(start + size, n_items)) for start in range(0, n_items, size)]


def extract_chunk(paths: list[str], extractor: str, params: dict[str, Any], sample_rate: int) -> np.ndarray:
    """Load and featurise a list of clips (runs in a worker process when threads > 1).

    BLAS is held to one thread: the per-clip matrices are tiny, OpenBLAS's own threads make them
    ~50x slower and oversubscribe the cores when several workers run, and one thread everywhere
    keeps the numbers independent of `threads`.
    """
    compute = get_extractor(extractor).compute
    with threadpool_limits(limits=1, user_api="blas"):
        rows = [compute(load_audio(path, sample_rate), sample_rate, params) for path in paths]
    return np.stack(rows).astype(np.float32, copy=False)


def _check_finite(features: np.ndarray, paths: list[str]) -> None:
    bad = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if bad.size:
        shown = ", ".join(paths[i] for i in bad[:5])
        raise StudyInputError(
            f"{bad.size} clips give non-finite features (NaN or infinite samples?): {shown}; "
            "check or remove those audio files."
        )
