"""Extraction speed: the project's extract_features against a bare librosa loop over the same files.

For each extractor, times in one process, interleaved over `--repeats` rounds:

- `bare`: a plain loop of `librosa.load` and the same librosa feature calls (melspectrogram, log,
  the summary statistics / mfcc and deltas / framing into patches), BLAS held to one thread;
- `threads=1` and `threads=2`: `analysis.features.extract.extract_features` end to end (manifest
  read, audio decoding, features, clip index, atomic writes).

Prints clips per second (median over rounds), the ratio to the bare loop and the CPU seconds
(this process and the workers); goals: >= 0.9x on one core, >= 1.8x with two. Timings on a shared
machine are noisy: read the ratios, run it a few times; when the threads=2 CPU seconds are close to
the threads=1 ones but the wall time is not halved, other processes held the second core.

    .venv/bin/python benchmarks/extract.py [--clips 3000] [--repeats 5] [--fsdd]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import soundfile as sf
from threadpoolctl import threadpool_limits

from analysis.features.extract import extract_features, feature_settings

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FSDD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fsdd" / "recordings"
EXTRACTORS = ("logfbank_summary", "logmel_patches", "mfcc")


def make_clips(folder: Path, n_clips: int, seconds: float, use_fsdd: bool) -> pd.DataFrame:
    """A manifest of `n_clips` clips: FSDD recordings (8 kHz, resampled) or generated 16 kHz wavs."""
    if use_fsdd:
        paths = sorted(FSDD.glob("*.wav"))[:n_clips]
        if not paths:
            raise SystemExit(f"--fsdd: no recordings under {FSDD}")
    else:
        rng = np.random.default_rng(0)
        n = int(seconds * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        paths = []
        for i in range(n_clips):
            signal = 0.3 * np.sin(2 * np.pi * (200 + 5 * i) * t) + 0.05 * rng.standard_normal(n)
            path = folder / f"clip{i:04d}.wav"
            sf.write(path, signal.astype(np.float32), SAMPLE_RATE)
            paths.append(path)
    durations = [sf.info(str(p)).duration for p in paths]
    return pd.DataFrame({"clip_id": [p.name for p in paths], "path": [str(p) for p in paths], "duration_s": durations})


def bare_loop(extractor: str, paths: list[str]) -> Callable[[], None]:
    """The plain librosa loop computing the same features as `extractor` with default settings."""
    settings = feature_settings(extractor, {}, None, SAMPLE_RATE)
    p, prep = settings["params"], settings["preparation"]
    mel = dict(
        sr=SAMPLE_RATE, n_fft=512, hop_length=160, win_length=400, center=False,
        n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"],
    )

    def one(path: str) -> np.ndarray:
        y, _ = librosa.load(path, sr=SAMPLE_RATE)
        if prep is not None:
            y = librosa.util.fix_length(y, size=max(len(y), (prep["frames"] - 1) * 160 + 512))
        log_mel = np.log(librosa.feature.melspectrogram(y=y, **mel) + p["log_floor"])  # (bands, frames)
        if extractor == "logfbank_summary":
            q50, q25, q75 = np.percentile(log_mel, [50, 25, 75], axis=1)
            stats = [log_mel.mean(1), log_mel.std(1), log_mel.min(1), log_mel.max(1), q50, q25, q75]
            return np.concatenate(stats).astype(np.float32)
        if extractor == "mfcc":
            coefficients = librosa.feature.mfcc(S=log_mel, n_mfcc=p["n_mfcc"])
            deltas = [librosa.feature.delta(coefficients, order=k, mode="nearest") for k in (1, 2)]
            log_mel = np.concatenate([coefficients, *deltas])
        patches = librosa.util.frame(log_mel, frame_length=prep["frames"], hop_length=prep["hop"])
        return np.moveaxis(patches, -1, 0).astype(np.float32)  # (windows, bands, frames)

    def run() -> None:
        with threadpool_limits(limits=1, user_api="blas"):
            for path in paths:
                one(path)

    return run


def project_run(extractor: str, manifest: Path, out: Path, threads: int) -> Callable[[], None]:
    def run() -> None:
        extract_features(
            str(manifest), str(out / "f.npy"), str(out / "f.json"), extractor, {}, SAMPLE_RATE,
            threads=threads, progress=False,
        )

    return run


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the extraction workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def seconds_of(run: Callable[[], None]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    start, start_cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - start, cpu_seconds() - start_cpu


def benchmark(
    extractor: str, manifest: Path, paths: list[str], out: Path, repeats: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each variant over `repeats` interleaved rounds, after a warm-up."""
    runs = {
        "bare": bare_loop(extractor, paths),
        "threads=1": project_run(extractor, manifest, out, 1),
        "threads=2": project_run(extractor, manifest, out, 2),
    }
    for run in runs.values():
        run()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(seconds_of(run))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clips", type=int, default=3000, help="number of clips")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each generated clip")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--fsdd", action="store_true", help=f"use FSDD recordings from {FSDD}")
    parser.add_argument("--extractors", nargs="+", default=list(EXTRACTORS), choices=EXTRACTORS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = make_clips(folder, args.clips, args.seconds, args.fsdd)
        manifest = folder / "manifest.parquet"
        table.to_parquet(manifest)
        source = "FSDD recordings (8 kHz)" if args.fsdd else f"generated {args.seconds:g} s 16 kHz wavs"
        print(f"{len(table)} clips: {source}; median of {args.repeats} rounds")
        print(f"{'extractor':<18}{'variant':<11}{'clips/s':>9}{'x bare':>8}{'CPU s':>8}")
        for extractor in args.extractors:
            medians = benchmark(extractor, manifest, list(table["path"]), folder, args.repeats)
            bare_wall = medians["bare"][0]
            for name, (wall, cpu) in medians.items():
                print(f"{extractor:<18}{name:<11}{len(table) / wall:>9.0f}{bare_wall / wall:>7.2f}x{cpu:>8.3f}")
        print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              "(other processes on the machine compete for the two cores)")


if __name__ == "__main__":
    main()
