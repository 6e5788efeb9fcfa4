"""Inputs of a model: manifests, feature stores and splits, and the batches of one fold.

A feature row is a clip, or a window of a clip: `clip_rows` gives the manifest row of every feature
row (identity when absent), and labels and folds reach the rows through it, so all windows of a clip
are on the same side of every split. In fold `f` the rows of clips with `fold == f` are the test
part and all others the training part; clips with `fold == -1` are never tested. A model of two
datasets runs the folds the two have in common.

A control task (`control: true` in its spec) has its labels permuted within the training part and
within the test part of every fold (`analysis.mtl.controls`).

A fold's training part is the union of the training parts of the model's datasets (sorted by
dataset name); each row carries the targets of every task of the model, `MISSING` for the tasks of
other datasets. Features stay in each dataset's `FeatureStore` and are gathered per batch, scaled
with statistics fit on that dataset's training rows only, so a task's input is the same in its
single-task and pair models.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from analysis.errors import StudyInputError
from analysis.io import read_table
from analysis.mtl.controls import shuffle_codes
from analysis.mtl.detection import attach_frame_grid
from analysis.mtl.settings import TrainingSettings
from analysis.mtl.store import FeatureStore, Scaler, fit_scaler
from analysis.mtl.tasks import MISSING, make_task

logger = logging.getLogger(__name__)

EVAL_ROWS = 4096


@dataclass(frozen=True)
class DatasetInputs:
    """One dataset's manifest, feature store, test fold of each clip and clip of each row."""

    name: str
    manifest: pd.DataFrame
    store: FeatureStore
    folds: np.ndarray  # (n_clips,), int64
    clip_rows: np.ndarray  # (n_rows,), int64: manifest row of each feature row
    features_path: str

    @property
    def features(self) -> np.ndarray:
        """The feature array, memory-mapped: (n_rows, ...)."""
        return np.load(self.features_path, mmap_mode="r")

    @property
    def row_folds(self) -> np.ndarray:
        return self.folds[self.clip_rows]  # (n_rows,)

    @property
    def test_folds(self) -> list[int]:
        return sorted(int(f) for f in np.unique(self.folds) if f >= 0)


@dataclass(frozen=True)
class RowSource:
    """Scaled rows of one dataset's store: `rows` are feature-row indices into the store."""

    store: FeatureStore
    scaler: Scaler
    rows: np.ndarray  # (n,), int64

    def take(self, positions: np.ndarray) -> np.ndarray:
        """Scaled rows at `positions` of `rows`: (len(positions), *row_shape) float32."""
        return self.scaler.transform(self.store.rows(self.rows[positions]))

    def batches(self, size: int) -> Iterator[torch.Tensor]:
        for start in range(0, len(self.rows), size):
            positions = np.arange(start, min(start + size, len(self.rows)))
            yield torch.from_numpy(self.take(positions))


@dataclass(frozen=True)
class TestPart:
    """One task's test rows: labels, manifest row of each test row, and scaled features."""

    y: np.ndarray  # (n_test,), codes of the labelled test rows
    clip_rows: np.ndarray  # (n_test,), int64: manifest row of each test row
    source: RowSource
    cached: torch.Tensor | None = None  # the whole x, kept when the store is preloaded

    @property
    def x(self) -> torch.Tensor:
        """All test rows, scaled: (n_test, *row_shape) float32."""
        if self.cached is not None:
            return self.cached
        return torch.from_numpy(self.source.take(np.arange(len(self.source.rows))))

    def batches(self, size: int = EVAL_ROWS) -> Iterator[torch.Tensor]:
        """The scaled test rows in order, `size` at a time, without holding them all."""
        if self.cached is not None:
            yield from self.cached.split(size)
        else:
            yield from self.source.batches(size)


@dataclass(frozen=True)
class FoldData:
    """The training rows and test parts of one fold; features are gathered per batch."""

    fold: int
    task_order: tuple[str, ...]  # column order of train_y
    train_y: torch.Tensor  # (n_train, n_tasks), int64, MISSING where a row lacks the task
    test: dict[str, TestPart]  # task -> its own dataset's test part
    sources: tuple[RowSource, ...]  # training rows of each dataset, in dataset order
    offsets: tuple[int, ...] = field(default=())  # first training position of each source
    train_clips: np.ndarray | None = None  # (n_train,), int64: clip of each row, unique in the fold

    @property
    def n_rows(self) -> int:
        return len(self.train_y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.sources[0].store.row_shape

    @property
    def n_inputs(self) -> int:
        return math.prod(self.input_shape)

    @property
    def n_train(self) -> dict[str, int]:
        """Labelled training rows per task."""
        labelled = (self.train_y != MISSING).sum(dim=0)  # (n_tasks,)
        return {task: int(n) for task, n in zip(self.task_order, labelled)}

    def batch(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (batch, *input_shape) and targets (batch, n_tasks) of training positions."""
        index = positions.numpy()
        if len(self.sources) == 1:
            x = self.sources[0].take(index)
        else:
            x = np.empty((len(index), *self.input_shape), dtype=np.float32)
            bounds = (*self.offsets, self.n_rows)
            for source, start, stop in zip(self.sources, bounds, bounds[1:]):
                inside = (index >= start) & (index < stop)
                if inside.any():
                    x[inside] = source.take(index[inside] - start)
        return torch.from_numpy(x), self.train_y[positions]


def _read_manifest(path: str) -> pd.DataFrame:
    manifest = read_table(path)
    if "clip_id" not in manifest.columns:
        raise StudyInputError(f"{path}: manifest has no 'clip_id' column")
    if manifest["clip_id"].duplicated().any():
        raise StudyInputError(f"{path}: 'clip_id' values are not unique")
    return manifest


def _read_folds(path: str, clip_ids: pd.Series) -> np.ndarray:
    splits = read_table(path)
    missing_cols = {"clip_id", "fold"} - set(splits.columns)
    if missing_cols:
        raise StudyInputError(f"{path}: splits lack column(s) {sorted(missing_cols)}")
    fold_of = splits.set_index("clip_id")["fold"]
    folds = fold_of.reindex(clip_ids.to_numpy())
    if folds.isna().any():
        missing = clip_ids[folds.isna().to_numpy()].head(3).tolist()
        raise StudyInputError(f"{path}: no fold for clip(s) {missing} of the manifest")
    folds = folds.to_numpy().astype(np.int64)
    if (folds < -1).any():
        raise StudyInputError(f"{path}: folds must be >= 0, or -1 for training-only clips")
    if not (folds >= 0).any():
        raise StudyInputError(f"{path}: every clip has fold -1; no fold is left to test on")
    return folds


def _read_clip_rows(path: str | None, n_rows: int, n_clips: int, features_path: str) -> np.ndarray:
    """Manifest row of each feature row; identity when no `.clips.npy` is given."""
    if path is None:
        if n_rows != n_clips:
            raise StudyInputError(
                f"{features_path}: {n_rows} feature rows for {n_clips} clips of the manifest; "
                "give the features' clip_rows (.clips.npy) or re-extract the features"
            )
        return np.arange(n_clips, dtype=np.int64)
    clip_rows = np.load(path)
    if clip_rows.shape != (n_rows,) or not np.issubdtype(clip_rows.dtype, np.integer):
        raise StudyInputError(
            f"{path}: clip_rows has shape {clip_rows.shape} and dtype {clip_rows.dtype}; expected "
            f"({n_rows},) integers, one manifest row per row of {features_path}"
        )
    if n_rows and (clip_rows.min() < 0 or clip_rows.max() >= n_clips):
        raise StudyInputError(f"{path}: clip_rows must lie in [0, {n_clips}), the manifest's rows")
    return clip_rows.astype(np.int64)


def load_dataset(
    name: str,
    manifest_path: str,
    features_path: str,
    splits_path: str,
    clip_rows_path: str | None = None,
    options: TrainingSettings | None = None,
) -> DatasetInputs:
    options = options or TrainingSettings.from_config({})
    manifest = _read_manifest(manifest_path)
    store = FeatureStore(features_path, options.preload_mb)
    store.check_finite()
    clip_rows = _read_clip_rows(clip_rows_path, store.n_rows, len(manifest), features_path)
    folds = _read_folds(splits_path, manifest["clip_id"])
    logger.info(
        "%s: %d rows of shape %s, %s", name, store.n_rows, store.row_shape,
        "preloaded" if store.preloaded else "memory-mapped",
    )
    return DatasetInputs(name, manifest, store, folds, clip_rows, features_path)


def _require(paths: dict[str, str], dataset: str, kind: str) -> str:
    if dataset not in paths:
        raise StudyInputError(f"no {kind} path given for dataset {dataset!r}")
    return paths[dataset]


def load_inputs(
    tasks: dict[str, dict],
    manifests: dict[str, str],
    features: dict[str, str],
    splits: dict[str, str],
    clip_rows: dict[str, str] | None = None,
    options: TrainingSettings | None = None,
) -> tuple[dict[str, DatasetInputs], list]:
    """Read and check every input of a model; tasks come back sorted by name."""
    options = options or TrainingSettings.from_config({})
    if not tasks:
        raise StudyInputError("a model needs at least one task, got none")
    datasets: dict[str, DatasetInputs] = {}
    task_list = []
    for name in sorted(tasks):
        spec = tasks[name]
        dataset = spec.get("dataset")
        if dataset is None:
            raise StudyInputError(f"task {name!r}: missing field 'dataset'")
        if dataset not in datasets:
            datasets[dataset] = load_dataset(
                dataset,
                _require(manifests, dataset, "manifest"),
                _require(features, dataset, "features"),
                _require(splits, dataset, "splits"),
                (clip_rows or {}).get(dataset),
                options,
            )
        spec = dict(spec)
        control = bool(spec.pop("control", False))
        task = make_task(name, spec, datasets[dataset].manifest, manifests[dataset])
        task = attach_frame_grid(task, datasets[dataset].features_path)
        task_list.append(dataclasses.replace(task, control=True) if control else task)
    _check_compatible(datasets)
    common_folds(datasets)
    return datasets, task_list


def _check_compatible(datasets: dict[str, DatasetInputs]) -> None:
    shapes = {d.features_path: d.store.row_shape for d in datasets.values()}
    if len(set(shapes.values())) > 1:
        raise StudyInputError(f"the datasets of one model need equal feature row shapes: {shapes}")


def common_folds(datasets: dict[str, DatasetInputs]) -> list[int]:
    """The test folds every dataset of the model has (fold -1 is never a test fold)."""
    fold_sets = {name: set(d.test_folds) for name, d in datasets.items()}
    common = sorted(set.intersection(*fold_sets.values()))
    if not common:
        listed = {name: sorted(folds) for name, folds in fold_sets.items()}
        raise StudyInputError(
            f"the datasets of one model have no test fold in common: {listed}; "
            "give them splits with shared fold numbers"
        )
    return common


def build_fold(
    datasets: dict[str, DatasetInputs], tasks: list, fold: int, options: TrainingSettings | None = None
) -> FoldData:
    """Fit the scalers and split the rows of every dataset for test fold `fold`."""
    options = options or TrainingSettings.from_config({})
    order = tuple(t.name for t in tasks)
    ys, clips, test, sources, offsets = [], [], {}, [], []
    start = first_clip = 0
    for name in sorted(datasets):
        data = datasets[name]
        train = data.row_folds != fold  # (n_rows,)
        scaler = fit_scaler(data.store, train, options.scaling)
        targets = np.full((data.store.n_rows, len(tasks)), MISSING, dtype=np.int64)
        test_rows = np.flatnonzero(~train)
        for column, task in enumerate(tasks):
            if task.dataset == name:
                codes = task.targets(data.manifest)  # (n_clips,)
                if task.control:
                    codes = shuffle_codes(codes, data.folds, fold, task.name)
                targets[:, column] = codes[data.clip_rows]
                test[task.name] = _test_part(task.name, data, scaler, test_rows,
                                             targets[test_rows, column], fold)
        train_rows = np.flatnonzero(train)
        sources.append(RowSource(data.store, scaler, train_rows))
        offsets.append(start)
        start += len(train_rows)
        ys.append(targets[train_rows])
        clips.append(first_clip + data.clip_rows[train_rows])
        first_clip += len(data.manifest)
    fold_data = FoldData(
        fold=fold,
        task_order=order,
        train_y=torch.from_numpy(np.concatenate(ys)),
        test=test,
        sources=tuple(sources),
        offsets=tuple(offsets),
        train_clips=np.concatenate(clips),
    )
    _check_labelled(fold_data)
    return fold_data


def _test_part(
    task: str, data: DatasetInputs, scaler: Scaler, rows: np.ndarray, y: np.ndarray, fold: int
) -> TestPart:
    labelled = y != MISSING
    if not labelled.any():
        raise StudyInputError(f"task {task!r}: no labelled clip in test fold {fold}")
    source = RowSource(data.store, scaler, rows[labelled])
    cached = None
    if data.store.preloaded:
        cached = torch.from_numpy(source.take(np.arange(len(source.rows))))
    return TestPart(y=y[labelled], clip_rows=data.clip_rows[source.rows], source=source,
                    cached=cached)


def _check_labelled(fold_data: FoldData) -> None:
    for task, n in fold_data.n_train.items():
        if n == 0:
            raise StudyInputError(
                f"task {task!r}: no labelled clip in the training part of fold {fold_data.fold}"
            )
