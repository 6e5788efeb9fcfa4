"""Memory: train on a memory-mapped feature store several times larger than the job's peak memory.

Generates a windowed dataset (`--clips` clips of `--windows` feature rows each, `--width` float32
features per row, a `.clips.npy` row-to-clip index, 2 folds) of about `--gb` GB, then runs
`analysis.mtl.train.train_study_model` on it with the default `training.preload_mb`, so the store
is memory-mapped and read per batch. Generator and training run in two child processes, so neither
the generator's memory nor the parent's counts. The training child reports its peak resident
memory (`VmHWM`, which counts mapped file pages too, and `ru_maxrss`) and the parent prints the
store size over that peak; goal: >= 4.

    .venv/bin/python benchmarks/memory.py [--gb 3.5] [--width 2048] [--windows 100] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import write_array, write_table

logger = logging.getLogger(__name__)

N_CLASSES = 4
CHUNK_ROWS = 16384


def generate(folder: Path, n_clips: int, windows: int, width: int) -> dict[str, dict[str, str]]:
    """Manifest, splits, clip_rows and a (n_clips * windows, width) float32 store, chunk by chunk."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, N_CLASSES, size=n_clips)
    clip_ids = [f"clip{i:06d}" for i in range(n_clips)]
    paths = {"manifests": folder / "manifest.parquet", "features": folder / "features.npy",
             "splits": folder / "splits.parquet", "clip_rows": folder / "features.clips.npy"}
    write_table(pd.DataFrame({"clip_id": clip_ids, "label": [f"c{c}" for c in labels]}),
                paths["manifests"])
    write_table(pd.DataFrame({"clip_id": clip_ids, "fold": np.arange(n_clips) % 2}), paths["splits"])
    clip_rows = np.repeat(np.arange(n_clips, dtype=np.int64), windows)
    write_array(clip_rows, paths["clip_rows"])
    store = np.lib.format.open_memmap(paths["features"], mode="w+", dtype=np.float32,
                                      shape=(len(clip_rows), width))
    for start in range(0, len(clip_rows), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(clip_rows))
        chunk = rng.random((stop - start, width), dtype=np.float32)
        chunk[:, :N_CLASSES] += np.eye(N_CLASSES, dtype=np.float32)[labels[clip_rows[start:stop]]]
        store[start:stop] = chunk
    store.flush()
    del store
    return {kind: {"bench": str(path)} for kind, path in paths.items()}


def peak_rss_kib() -> int:
    """This process's peak resident memory (KiB): VmHWM, reset by exec unlike ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def train_child(arguments_path: str) -> None:
    """Train on the store described in the JSON file; print peak memory as JSON."""
    from analysis.mtl.train import train_study_model

    arguments = json.loads(Path(arguments_path).read_text())
    after_imports = peak_rss_kib()
    start = time.perf_counter()
    train_study_model(**arguments)
    print(json.dumps({"peak_kib": peak_rss_kib(), "after_imports_kib": after_imports,
                      "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "seconds": time.perf_counter() - start}))


def run_child(*arguments: str) -> str:
    result = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"{arguments[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--gb", type=float, default=3.5, help="size of the feature store")
    parser.add_argument("--width", type=int, default=2048, help="features per row")
    parser.add_argument("--windows", type=int, default=100, help="feature rows per clip")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_clips = max(4, int(args.gb * 2**30 / (args.windows * args.width * 4)))
    if args.generate:
        print(json.dumps(generate(Path(args.generate), n_clips, args.windows, args.width)))
        return
    if args.train:
        train_child(args.train)
        return
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        paths = json.loads(run_child("--generate", folder, "--gb", str(args.gb), "--width",
                                     str(args.width), "--windows", str(args.windows)))
        print(f"generated {n_clips} clips x {args.windows} windows x {args.width} features in "
              f"{time.perf_counter() - start:.0f} s")
        arguments = {
            "tasks": {"bench_label": {"dataset": "bench", "label": "label"}}, **paths,
            "out_dir": str(Path(folder) / "model"),
            "model": {"type": "dnn", "hidden": [64, 64, 64], "dropout": 0.1},
            "training": {"epochs": args.epochs, "batch_size": args.batch_size,
                         "learning_rate": 0.001, "seeds": [0]},
            "progress": False,
        }
        arguments_path = Path(folder) / "arguments.json"
        arguments_path.write_text(json.dumps(arguments))
        report = json.loads(run_child("--train", str(arguments_path)))
        store_bytes = Path(paths["features"]["bench"]).stat().st_size
    peak = report["peak_kib"] * 1024
    print(f"feature store      {store_bytes / 2**20:9.0f} MiB")
    print(f"peak RSS of job    {peak / 2**20:9.0f} MiB "
          f"(after imports {report['after_imports_kib'] / 1024:.0f} MiB, ru_maxrss "
          f"{report['ru_maxrss_kib'] / 1024:.0f} MiB; "
          f"training {report['seconds']:.0f} s, 2 folds x {args.epochs} epoch(s))")
    print(f"store / peak RSS   {store_bytes / peak:9.2f}x (goal >= 4)")


if __name__ == "__main__":
    main()
