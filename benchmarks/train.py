"""Training throughput: the engine's epoch loop against a bare PyTorch loop and a per-item DataLoader.

On one generated dataset, with the same model (`build_model`, the study's DNN), optimizer (Adam),
batch size, one task and one thread, times in one process, interleaved over `--repeats` rounds:

- `engine`: `analysis.mtl.train.train_epoch` on the fold data of `analysis.mtl.data.build_fold`
  (features gathered and scaled per batch from the preloaded store, per-step loss recorded);
- `engine (memmap)`: the same with the store memory-mapped (`preload_mb: 0`);
- `data path only`: the engine's batches fetched (`FoldData.batch`) without training, to tell the
  data path's share of the engine's time from the optimisation step's;
- `bare`: a plain loop that indexes preloaded, already scaled tensors with a random permutation;
- `dataloader`: `torch.utils.data.DataLoader` over a Dataset returning one clip at a time, each
  clip's features read from a file of its own and scaled per item (shuffled, default collate, no
  workers): the thesis framework's per-item "index mode", with its opening of one file per clip;
- `dataloader (memmap)`: the same per-item loop reading rows of the one memory-mapped feature file,
  to separate the per-file cost from the per-item cost.

Prints clips per second (median over rounds) and the engine's ratio to each; goals: >= 0.9x the
bare loop and >= 1.5x the per-file DataLoader loop. The ratios depend on how much of a step the model takes:
the study's default DNN ([128, 256, 512]) is compute-bound, a small one (`--hidden 64 64 64`)
shows the cost of the data path. Timings on a shared machine are noisy: run it a few times.

    .venv/bin/python benchmarks/train.py [--clips 4000] [--features 168] [--hidden 128 256 512]
        [--batch-size 32] [--epochs 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from analysis.io import write_array, write_table
from analysis.mtl.data import FoldData, build_fold, load_inputs
from analysis.mtl.models import build_model
from analysis.mtl.runtime import torch_settings
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import TrainingSettings
from analysis.mtl.store import Scaler
from analysis.mtl.train import new_run_state, train_epoch

logger = logging.getLogger(__name__)

MODEL = {"type": "dnn", "hidden": [128, 256, 512], "dropout": 0.1}  # --hidden replaces the widths
TASK = {"bench_label": {"dataset": "bench", "label": "label"}}
N_CLASSES = 10


def make_dataset(folder: Path, n_clips: int, n_features: int) -> dict[str, dict[str, str]]:
    """Manifest, features and 5-fold splits of a learnable 10-class dataset."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, N_CLASSES, size=n_clips)
    features = rng.normal(size=(n_clips, n_features)).astype(np.float32)
    features[:, :N_CLASSES] += 2.0 * np.eye(N_CLASSES, dtype=np.float32)[classes]
    clip_ids = [f"clip{i:06d}" for i in range(n_clips)]
    paths = {d: str(folder / f"{d}.{ext}") for d, ext in
             (("manifest", "parquet"), ("features", "npy"), ("splits", "parquet"))}
    write_table(pd.DataFrame({"clip_id": clip_ids, "label": [f"c{c}" for c in classes]}),
                paths["manifest"])
    write_array(features, paths["features"])
    write_table(pd.DataFrame({"clip_id": clip_ids, "fold": np.arange(n_clips) % 5}), paths["splits"])
    return {kind: {"bench": path} for kind, path in paths.items()}


def engine_loop(paths: dict, training: dict, epochs: int) -> Callable[[], int]:
    """The engine's epoch loop on fold 0; returns a runner giving the clips it trained on."""
    options = TrainingSettings.from_config(training)
    datasets, tasks = load_inputs(TASK, paths["manifest"], paths["features"], paths["splits"],
                                  options=options)
    fold = build_fold(datasets, tasks, 0, options)
    config = TrainingSettings.from_config(training)

    def run() -> int:
        seeds = RunSeeds(seed=0, fold=0)
        state = new_run_state(tasks, fold, MODEL, config, seeds, torch.arange(fold.n_rows))
        for _ in range(epochs):
            train_epoch(state, tasks, fold)
        return epochs * fold.n_rows

    return run


def data_path_loop(paths: dict, training: dict, epochs: int) -> Callable[[], int]:
    """Only the engine's batch fetching, over the same batches as `engine_loop`."""
    options = TrainingSettings.from_config(training)
    datasets, tasks = load_inputs(TASK, paths["manifest"], paths["features"], paths["splits"],
                                  options=options)
    fold = build_fold(datasets, tasks, 0, options)
    batches = [rows for rows in torch.randperm(fold.n_rows).split(training["batch_size"])]

    def run() -> int:
        for _ in range(epochs):
            for rows in batches:
                fold.batch(rows)
        return epochs * fold.n_rows

    return run


def scaled_tensors(fold: FoldData) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training part, scaled once: x (n, n_features), y (n,)."""
    return fold.batch(torch.arange(fold.n_rows))[0], fold.train_y[:, 0].clone()


def new_model_and_optimizer(n_features: int, lr: float) -> tuple[torch.nn.Module, torch.optim.Adam]:
    seeds = RunSeeds(seed=0, fold=0)
    model = build_model(MODEL, n_features, {"bench_label": N_CLASSES}, seeds)
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def bare_loop(x: torch.Tensor, y: torch.Tensor, batch: int, lr: float, epochs: int):
    def run() -> int:
        model, optimizer = new_model_and_optimizer(x.shape[1], lr)
        model.train()
        generator = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            for rows in torch.randperm(len(x), generator=generator).split(batch):
                loss = F.cross_entropy(model(x[rows])["bench_label"], y[rows])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return epochs * len(x)

    return run


class OneClipDataset(Dataset):
    """One scaled (features, label) pair per item, read from the memory-mapped feature file."""

    def __init__(self, path: str, rows: np.ndarray, labels: np.ndarray, scaler: Scaler) -> None:
        self.features = np.load(path, mmap_mode="r")
        self.rows, self.labels, self.scaler = rows, labels, scaler

    def __len__(self) -> int:
        return len(self.rows)

    def clip(self, index: int) -> np.ndarray:
        return np.array(self.features[self.rows[index]], dtype=np.float32)  # (n_features,)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return (self.clip(index) - self.scaler.mean) / self.scaler.scale, int(self.labels[index])


class OneFilePerClipDataset(OneClipDataset):
    """The same items, each clip's features read from a `.npy` file of its own."""

    def __init__(self, folder: Path, path: str, rows: np.ndarray, labels: np.ndarray,
                 scaler: Scaler) -> None:
        super().__init__(path, rows, labels, scaler)
        self.files = [folder / f"{row}.npy" for row in rows]
        for file, row in zip(self.files, rows):
            np.save(file, np.asarray(self.features[row], dtype=np.float32))

    def clip(self, index: int) -> np.ndarray:
        return np.load(self.files[index])


def dataloader_loop(fold: FoldData, batch: int, lr: float, epochs: int,
                    per_file_folder: Path | None = None):
    source = fold.sources[0]
    arguments = (source.store.path, source.rows, fold.train_y[:, 0].numpy(), source.scaler)
    if per_file_folder is None:
        dataset = OneClipDataset(*arguments)
    else:
        per_file_folder.mkdir()
        dataset = OneFilePerClipDataset(per_file_folder, *arguments)

    def run() -> int:
        model, optimizer = new_model_and_optimizer(fold.n_inputs, lr)
        model.train()
        loader = DataLoader(dataset, batch_size=batch, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        for _ in range(epochs):
            for xb, yb in loader:
                loss = F.cross_entropy(model(xb)["bench_label"], yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return epochs * len(dataset)

    return run


def throughput(run: Callable[[], int]) -> float:
    start = time.perf_counter()
    clips = run()
    return clips / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clips", type=int, default=4000)
    parser.add_argument("--features", type=int, default=168, help="7 x 24 log filter-bank summary")
    parser.add_argument("--hidden", type=int, nargs="+", default=MODEL["hidden"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed round")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    MODEL["hidden"] = args.hidden
    training = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": 0.001,
                "optimizer": "adam", "seeds": [0]}
    with tempfile.TemporaryDirectory() as folder, torch_settings(1):
        paths = make_dataset(Path(folder), args.clips, args.features)
        engine = engine_loop(paths, training, args.epochs)
        options = TrainingSettings.from_config(training)
        datasets, tasks = load_inputs(TASK, paths["manifest"], paths["features"], paths["splits"],
                                      options=options)
        fold = build_fold(datasets, tasks, 0, options)
        x, y = scaled_tensors(fold)
        loops = {
            "engine": engine,
            "engine (memmap)": engine_loop(paths, {**training, "preload_mb": 0}, args.epochs),
            "data path only": data_path_loop(paths, training, args.epochs),
            "bare": bare_loop(x, y, args.batch_size, 0.001, args.epochs),
            "dataloader": dataloader_loop(fold, args.batch_size, 0.001, args.epochs,
                                          per_file_folder=Path(folder) / "clips"),
            "dataloader (memmap)": dataloader_loop(fold, args.batch_size, 0.001, args.epochs),
        }
        for run in loops.values():  # warm up
            run()
        rates: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(args.repeats):
            for name, run in loops.items():
                rates[name].append(throughput(run))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{args.clips} clips x {args.features} features, {len(x)} training clips, batch "
          f"{args.batch_size}, model {MODEL['hidden']}, 1 thread, median of {args.repeats} rounds")
    for name, value in median.items():
        print(f"  {name:20s} {value:10.0f} clips/s")
    share = median["engine"] / median["data path only"]
    print(f"data path: {100 * share:.1f}% of the engine's time (the rest is the optimisation step)")
    for name in ("engine", "engine (memmap)"):
        print(f"{name}: {median[name] / median['bare']:.2f}x bare loop (goal >= 0.9), "
              f"{median[name] / median['dataloader']:.2f}x per-file DataLoader (goal >= 1.5), "
              f"{median[name] / median['dataloader (memmap)']:.2f}x per-item memmap DataLoader")


if __name__ == "__main__":
    main()
